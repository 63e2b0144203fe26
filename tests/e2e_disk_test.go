package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// rawCopy converts a qcow2 image to raw bytes.
func rawCopy(t testing.TB, qcow2, dst string) []byte {
	t.Helper()
	sh(t, "qemu-img", "convert", "-U", "-O", "raw", qcow2, dst)
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDiskQcow2Lifecycle backs up a qcow2 image with a dirty bitmap twice,
// checks the incremental read only what qemu-io wrote, restores both points
// and compares them byte for byte, and reads disk.img through the mount.
func TestDiskQcow2Lifecycle(t *testing.T) {
	need(t, "qemu-img", "qemu-io", "qemu-nbd", "fusermount3")
	d := startDaemon(t, "")
	img := filepath.Join(d.dir, "vm.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", img, "64M")
	sh(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 8M", "-c", "write -P 0xcd 20M 4M", img)
	d.must("item", "add", "vm1", "--disk", "qcow2:"+img, "--bitmap", "rw")
	d.must("backup", "vm1")
	want1 := rawCopy(t, img, filepath.Join(d.dir, "want1.raw"))

	sh(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x11 40M 1M", img)
	d.must("backup", "vm1")
	want2 := rawCopy(t, img, filepath.Join(d.dir, "want2.raw"))

	var points []map[string]any
	d.jsonOf(&points, "points", "vm1")
	if len(points) != 2 || points[1]["kind"] != "incremental" {
		t.Fatalf("points: %v", points)
	}
	if read := points[1]["bytes_read"].(float64); read < 1<<20 || read > 4<<20 {
		t.Errorf("the incremental read %v bytes; qemu-io wrote 1 MiB inside one 4 MiB block", read)
	}
	for i, want := range [][]byte{want1, want2} {
		out := filepath.Join(d.dir, fmt.Sprintf("restored%d.raw", i))
		d.must("restore", "disk", "vm1", "--point", points[i]["id"].(string), "--to", out, "--verify")
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("point %d restored differs from the image at that time (%v)", i, err)
		}
	}
	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	d.must("mount", mnt, "--item", "vm1")
	got, err := os.ReadFile(filepath.Join(mnt, "vm1", "latest", "disk.img"))
	if err != nil || !bytes.Equal(got, want2) {
		t.Errorf("disk.img through the mount differs (%v)", err)
	}
	d.must("umount", mnt)
}

// nbdkitSlow serves size bytes of random data limited to rate bytes/s on a
// unix socket and returns the source spec.
func nbdkitSlow(t testing.TB, dir, plugin, size, rate string) string {
	t.Helper()
	need(t, "nbdkit")
	sock := filepath.Join(dir, plugin+".sock")
	cmd := exec.Command("nbdkit", "-f", "-U", sock, "--filter=rate", plugin, "size="+size, "rate="+rate)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "nbd+unix:///?socket=" + sock
}

// waitJob polls until the item has a running job and returns its id.
func waitRunning(t testing.TB, d *daemonProc, item string) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		var jobs []map[string]any
		d.jsonOf(&jobs, "jobs", "--item", item)
		for _, j := range jobs {
			if j["status"] == "running" {
				return j["id"].(string)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no running job for %s", item)
	return ""
}

// TestKillDuringBackup SIGKILLs the daemon in the middle of a backup: after
// a restart the job shows failed, no point exists, and the next backup works.
func TestKillDuringBackup(t *testing.T) {
	d := startDaemon(t, "")
	src := nbdkitSlow(t, d.dir, "random", "64M", "8M")
	d.must("item", "add", "slow", "--disk", src)
	d.must("backup", "slow", "--no-wait")
	id := waitRunning(t, d, "slow")
	time.Sleep(1500 * time.Millisecond)
	if err := d.kill(syscall.SIGKILL); err == nil {
		t.Fatal("the daemon should have died of SIGKILL")
	}
	d.start()
	var job map[string]any
	d.jsonOf(&job, "job", "show", id)
	if job["status"] != "failed" {
		t.Fatalf("job after the crash: %v", job)
	}
	var points []map[string]any
	d.jsonOf(&points, "points", "slow")
	if len(points) != 0 {
		t.Fatalf("a killed backup left points: %v", points)
	}
	fast := filepath.Join(d.dir, "fast.raw")
	os.WriteFile(fast, bytes.Repeat([]byte("rewind"), 1<<20), 0o644)
	d.must("item", "add", "fast", "--disk", fast)
	d.must("backup", "fast")
	d.must("gc")
	d.must("verify")
}

// TestSigtermDuringRestore stops the daemon while a restore writes to a slow
// NBD export: it exits cleanly in time and the job is recorded as cancelled.
func TestSigtermDuringRestore(t *testing.T) {
	d := startDaemon(t, "shutdown_timeout = \"10s\"\n")
	disk := filepath.Join(d.dir, "disk.raw")
	data := bytes.Repeat([]byte("0123456789abcdef"), 2<<20)
	os.WriteFile(disk, data, 0o644)
	d.must("item", "add", "d1", "--disk", disk)
	d.must("backup", "d1")
	target := nbdkitSlow(t, d.dir, "memory", "32M", "4M")
	d.must("restore", "disk", "d1", "--point", "latest", "--to", target, "--force", "--no-wait")
	id := waitRunning(t, d, "d1")
	start := time.Now()
	if err := d.kill(syscall.SIGTERM); err != nil {
		t.Fatalf("daemon exit after SIGTERM: %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("stopping took %v, far beyond the 10s shutdown bound", took)
	}
	d.start()
	var job map[string]any
	d.jsonOf(&job, "job", "show", id)
	if job["status"] != "cancelled" {
		t.Fatalf("restore job after SIGTERM: %v", job)
	}
}
