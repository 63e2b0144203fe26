package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2ESystemdNspawn installs rewind with `make install DESTDIR=` into a
// Debian tree, boots it under real systemd (systemd-nspawn --boot), starts
// rewind.service and checks, from the container's own mount namespace (not
// the service's), that a mount made by the service is visible there and
// that restores to /var/tmp, /tmp and /home land there; a loop device and a
// qcow2 (qemu-nbd, as the service's child) are backed up, an image backed by
// /etc/shadow is refused; `systemd-analyze security` is run and logged.
// Skipped only when REWIND_SKIP_NSPAWN=1.
func TestE2ESystemdNspawn(t *testing.T) {
	if os.Getenv("REWIND_SKIP_NSPAWN") == "1" {
		t.Skip("REWIND_SKIP_NSPAWN=1")
	}
	need(t, "debootstrap", "systemd-nspawn", "nsenter", "losetup", "make", "qemu-img", "qemu-io")
	root := overlayRoot(t, debianTree(t))
	// The host must not change: no "rewind" group, none of the installed
	// files (each checked only when absent before: other tests share the host).
	hostPaths := []string{"/etc/rewind", "/usr/lib/sysusers.d/rewind.conf", "/usr/local/share/doc/rewind", "/etc/systemd/system/rewind.service"}
	absent := map[string]bool{}
	for _, p := range hostPaths {
		_, err := os.Stat(p)
		absent[p] = os.IsNotExist(err)
	}
	hadGroup := hostHasGroup(t, "rewind")
	sh(t, "make", "-C", "..", "install", "DESTDIR="+root)
	if !hadGroup && hostHasGroup(t, "rewind") {
		t.Error("make install DESTDIR=… created the group rewind on the host")
	}
	for _, p := range hostPaths {
		if _, err := os.Stat(p); absent[p] && err == nil {
			t.Errorf("make install DESTDIR=… created %s on the host", p)
		}
	}
	loop := loopDevice(t)
	seedTree(t, root)
	c := bootContainer(t, root, "--bind=/dev/fuse", "--bind="+loop)

	c.must("systemctl", "enable", "--now", "rewind.service")
	c.must("getent", "group", "rewind")
	doc := c.must("systemctl", "show", "-p", "Documentation", "rewind.service")
	c.must("test", "-f", strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(doc, "Documentation=")), "file://"))

	c.must("rewind", "vault", "create", "ns", "--passphrase-file", "/root/pass")
	c.must("rewind", "item", "add", "files", "--vault", "ns", "--share", "/srv/data")
	c.must("rewind", "backup", "files")
	c.must("mkdir", "-p", "/srv/mnt")
	c.must("rewind", "mount", "/srv/mnt", "--item", "files")
	// Read from the container's namespace, outside the service.
	if got := c.must("cat", "/srv/mnt/files/latest/hello.txt"); got != "hello from the share\n" {
		t.Errorf("the mount read from outside the service: %q", got)
	}
	if fs := c.must("findmnt", "-n", "-o", "FSTYPE", "/srv/mnt"); !strings.HasPrefix(fs, "fuse") {
		t.Errorf("/srv/mnt in the container's namespace is %q, want the FUSE mount", fs)
	}
	c.must("rewind", "umount", "/srv/mnt")
	for _, to := range []string{"/var/tmp/restored", "/home/restored", "/tmp/restored"} {
		c.must("rewind", "restore", "share", "files", "--point", "latest", "--to", to)
		if got := c.must("cat", to+"/hello.txt"); got != "hello from the share\n" {
			t.Errorf("restore --to %s, read outside the service: %q", to, got)
		}
	}
	c.must("rewind", "item", "add", "loop", "--vault", "ns", "--disk", loop)
	c.must("rewind", "backup", "loop")
	// qemu-nbd and qemu-img run as the service's children, under its filters.
	c.must("rewind", "item", "add", "vm", "--vault", "ns", "--disk", "qcow2:/srv/images/vm.qcow2", "--bitmap", "rw")
	c.must("rewind", "backup", "vm")
	c.must("rewind", "backup", "vm")
	c.must("rewind", "item", "add", "evil", "--vault", "ns", "--disk", "qcow2:/srv/images/evil.qcow2")
	if out, code := c.run("rewind", "backup", "evil"); code == 0 || !strings.Contains(out, `"/etc/shadow"`) {
		t.Errorf("backup of an image backed by /etc/shadow under the service: exit %d\n%s", code, out)
	}

	// Why the unit has no namespace options: even with MountFlags=shared a
	// mount made inside a namespace (here PrivateTmp's) never reaches the host.
	c.must("mkdir", "-p", "/srv/probe")
	c.must("systemd-run", "--wait", "-p", "PrivateTmp=yes", "-p", "MountFlags=shared", "mount", "-t", "tmpfs", "probe", "/srv/probe")
	if out, code := c.run("findmnt", "/srv/probe"); code == 0 {
		t.Errorf("a mount from a PrivateTmp=yes MountFlags=shared unit reached the host namespace; the unit's comment is wrong:\n%s", out)
	}

	out, _ := c.run("systemd-analyze", "security", "--no-pager", "rewind.service")
	m := regexp.MustCompile(`Overall exposure level for rewind.service: ([0-9.]+) (\w+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no score in\n%s", out)
	}
	t.Logf("systemd-analyze security rewind.service: %s %s", m[1], m[2])
}

// debianTree returns a Debian bookworm tree with systemd, built once with
// debootstrap from the mirror apt is configured with and cached under
// ~/.cache/rewind/debootstrap/bookworm-qemu (qemu-utils included, for
// qemu-nbd under the service).
func debianTree(t *testing.T) string {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".cache", "rewind", "debootstrap", "bookworm-qemu")
	if _, err := os.Stat(filepath.Join(dir, "usr", "lib", "systemd", "systemd")); err == nil {
		return dir
	}
	mirror := aptMirror(t)
	partial := dir + ".partial"
	os.RemoveAll(partial)
	os.MkdirAll(filepath.Dir(dir), 0o755)
	t.Logf("building the Debian tree once (debootstrap from %s) into %s", mirror, dir)
	sh(t, "debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus,fuse3,qemu-utils", "bookworm", partial, mirror)
	if err := os.Rename(partial, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// aptMirror reads the Debian mirror URL apt uses from /etc/apt/sources.list*.
func aptMirror(t *testing.T) string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append([]string{"/etc/apt/sources.list"}, files...)
	re := regexp.MustCompile(`(?m)^(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if u := m[1]; !strings.Contains(u, "security") {
				return u
			}
		}
	}
	t.Fatal("no Debian mirror in /etc/apt/sources.list*: configure apt first")
	return ""
}

// overlayRoot mounts a writable overlay over the cached tree, so each run
// starts from the same clean tree and the cache is never written.
func overlayRoot(t *testing.T, lower string) string {
	tmp := t.TempDir()
	up, work, merged := filepath.Join(tmp, "up"), filepath.Join(tmp, "work"), filepath.Join(tmp, "root")
	for _, d := range []string{up, work, merged} {
		os.MkdirAll(d, 0o755)
	}
	sh(t, "mount", "-t", "overlay", "overlay", "-o", "lowerdir="+lower+",upperdir="+up+",workdir="+work, merged)
	t.Cleanup(func() { exec.Command("umount", "-l", merged).Run() })
	return merged
}

// loopDevice attaches a 16 MiB file with known content to a loop device.
func loopDevice(t *testing.T) string {
	img := filepath.Join(t.TempDir(), "loop.img")
	data := bytes.Repeat([]byte("rewind loop source "), 16<<20/19)
	if err := os.WriteFile(img, data[:len(data)/512*512], 0o600); err != nil {
		t.Fatal(err)
	}
	dev := strings.TrimSpace(sh(t, "losetup", "--find", "--show", img))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// seedTree writes the share to back up, qcow2 images and a passphrase
// into the tree.
func seedTree(t *testing.T, root string) {
	images := filepath.Join(root, "srv", "images")
	os.MkdirAll(images, 0o755)
	for _, args := range [][]string{
		{"qemu-img", "create", "-q", "-f", "raw", "base.raw", "8M"},
		{"qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 1M", "base.raw"},
		{"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "base.raw", "vm.qcow2"},
		{"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/shadow", "evil.qcow2", "1M"},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = images
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	files := map[string]string{
		"srv/data/hello.txt": "hello from the share\n",
		"root/pass":          "correct horse battery nspawn\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// container is a booted systemd-nspawn container; run executes commands in
// the namespaces of its PID 1 (the container's host, not a service).
type container struct {
	t    *testing.T
	cmd  *exec.Cmd
	pid1 int
	logs *bytes.Buffer
}

func bootContainer(t *testing.T, root string, extra ...string) *container {
	c := &container{t: t, logs: &bytes.Buffer{}}
	args := append([]string{"--boot", "--register=no", "--keep-unit", "-D", root}, extra...)
	c.cmd = exec.Command("systemd-nspawn", args...)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { c.cmd.Wait(); close(exited) }()
	t.Cleanup(func() { c.shutdown(exited) })
	c.waitFor("the container's systemd", 90*time.Second, exited, func() bool {
		c.pid1 = childOf(c.cmd.Process.Pid)
		return c.pid1 > 0
	})
	c.waitFor("the boot to finish", 120*time.Second, exited, func() bool {
		out, _ := c.run("systemctl", "is-system-running")
		s := strings.TrimSpace(out)
		return s == "running" || s == "degraded"
	})
	return c
}

// waitFor polls cond until it holds, the container exits, or the time is up.
func (c *container) waitFor(what string, limit time.Duration, exited chan struct{}, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case <-exited:
			c.t.Fatalf("systemd-nspawn exited while waiting for %s:\n%s", what, tail(c.logs.String(), 4000))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %s within %s:\n%s", what, limit, tail(c.logs.String(), 4000))
		}
	}
}

// shutdown asks the container to power off (nspawn turns SIGTERM into
// that), then kills it if it has not stopped in time.
func (c *container) shutdown(exited chan struct{}) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// childOf returns the first child process of pid, or 0.
func childOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

func (c *container) run(args ...string) (string, int) {
	ns := []string{"-t", strconv.Itoa(c.pid1), "-a", "env", "-i", "PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}
	cmd := exec.Command("nsenter", append(ns, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return out.String(), code
}

func (c *container) must(args ...string) string {
	c.t.Helper()
	out, code := c.run(args...)
	if code != 0 {
		journal, _ := c.run("journalctl", "-u", "rewind", "--no-pager", "-n", "40")
		c.t.Fatalf("in the container: %s: exit %d\n%s\nrewind.service journal:\n%s", strings.Join(args, " "), code, out, journal)
	}
	return out
}

// hostHasGroup reports whether /etc/group names group.
func hostHasGroup(t *testing.T, group string) bool {
	b, err := os.ReadFile("/etc/group")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains("\n"+string(b), "\n"+group+":")
}
