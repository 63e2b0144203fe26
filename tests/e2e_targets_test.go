package tests

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const targetUser = "rewind-e2e-user"

// unprivUser creates (once) an unprivileged user, and a home directory for
// it in a fresh directory others may traverse (t.TempDir is 0700); it
// returns the uid and the home.
func unprivUser(t *testing.T) (int, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "rewind-e2e-home-")
	mustOK(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	mustOK(t, os.Chmod(dir, 0o755))
	if _, err := user.Lookup(targetUser); err != nil {
		sh(t, "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", targetUser)
	}
	u, err := user.Lookup(targetUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	home := filepath.Join(dir, "home-"+targetUser)
	mustOK(t, os.MkdirAll(home, 0o755))
	mustOK(t, os.Chown(home, uid, uid))
	return uid, home
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isEmptyDir(t *testing.T, dir string) bool {
	t.Helper()
	names, err := os.ReadDir(dir)
	mustOK(t, err)
	return len(names) == 0
}

// TestE2ERestoreTargetSymlink is finding 6 of issue 12: an unprivileged
// user's symlink to a root-owned directory is never followed by a restore,
// an admin's included; a relative target over TCP is refused; a
// restore-operator restores only below restore_roots.
func TestE2ERestoreTargetSymlink(t *testing.T) {
	roots := t.TempDir()
	d, remote := tcpDaemon(t, fmt.Sprintf("restore_roots = [%q]", roots))
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	need(t, "runuser")
	_, home := unprivUser(t)

	// The user plants the link itself: ln -s /root-owned/dir ~/restored.
	rootOnly := filepath.Join(filepath.Dir(home), "root-only")
	mustOK(t, os.Mkdir(rootOnly, 0o700))
	link := filepath.Join(home, "restored")
	sh(t, "runuser", "-u", targetUser, "--", "ln", "-s", rootOnly, link)
	_, errOut, code := d.run("restore", "share", "files", "--point", "latest", "--to", link)
	if code == 0 || !strings.Contains(errOut, link) || !strings.Contains(errOut, targetUser) {
		t.Fatalf("restore through another user's symlink: exit %d %q; want a refusal naming the link and its owner", code, errOut)
	}
	_, errOut, code = d.run("restore", "share", "files", "--point", "latest", "--to", link+"/sub")
	if code == 0 || !strings.Contains(errOut, "not followed") {
		t.Fatalf("restore below another user's symlink: exit %d %q", code, errOut)
	}
	if !isEmptyDir(t, rootOnly) {
		t.Fatal("the root-owned directory behind the symlink was written to")
	}

	// The daemon's own directories are never a restore target.
	if _, errOut, code := d.run("restore", "share", "files", "--point", "latest", "--to", filepath.Join(d.data, "x")); code != 2 || !strings.Contains(errOut, "data directory") {
		t.Fatalf("restore into the data directory: exit %d %q, want 2", code, errOut)
	}

	// A root-owned symlink is followed; the job names the real directory.
	real := filepath.Join(d.dir, "real")
	mustOK(t, os.Symlink(real, filepath.Join(d.dir, "rootlink")))
	d.must("restore", "share", "files", "--point", "latest", "--to", filepath.Join(d.dir, "rootlink"))
	compareTrees(t, src, real)

	admin := d.token("admin")
	args := append(append([]string{}, remote...), "restore", "share", "files", "--point", "latest", "--to", "rel/dir", "--token", admin)
	_, errOut, code = d.run(args...)
	if code != 2 || !strings.Contains(errOut, "to") || !strings.Contains(errOut, "absolute") {
		t.Fatalf("relative --to over TCP: exit %d %q, want 2 naming the field", code, errOut)
	}

	args = append(append([]string{}, remote...), "item", "add", "rel", "--share", "share", "--token", admin)
	if _, errOut, code := d.run(args...); code != 2 || !strings.Contains(errOut, "share") || !strings.Contains(errOut, "absolute") {
		t.Fatalf("relative --share over TCP: exit %d %q, want 2 naming the field", code, errOut)
	}
	args = append(append([]string{}, remote...), "mount", "mnt", "--token", admin)
	if _, errOut, code := d.run(args...); code != 2 || !strings.Contains(errOut, "mountpoint") || !strings.Contains(errOut, "absolute") {
		t.Fatalf("relative mountpoint over TCP: exit %d %q, want 2 naming the field", code, errOut)
	}

	// Over the socket the CLI makes it absolute against its own directory.
	cmd := exec.Command(rewindBin, "restore", "share", "files", "--point", "latest", "--to", "fromcwd")
	cmd.Dir, cmd.Env = d.dir, append(os.Environ(), "REWIND_SOCKET="+d.socket)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("relative --to over the socket: %v\n%s", err, out)
	}
	compareTrees(t, src, filepath.Join(d.dir, "fromcwd"))

	op := d.token("restore-operator")
	outside := append(append([]string{}, remote...), "restore", "share", "files", "--point", "latest", "--to", filepath.Join(d.dir, "op"), "--token", op)
	if _, errOut, code := d.run(outside...); code != 5 || !strings.Contains(errOut, "restore root") {
		t.Fatalf("restore-operator outside restore_roots: exit %d %q, want 5", code, errOut)
	}
	inside := append(append([]string{}, remote...), "restore", "share", "files", "--point", "latest", "--to", filepath.Join(roots, "op"), "--token", op)
	d.must(inside...)
	compareTrees(t, src, filepath.Join(roots, "op"))
}

// TestE2EMountTargets is finding 4 of issue 12: no mount over a non-empty
// directory, the daemon's index or a shard directory; expiry bounded;
// only the owner (or an admin) unmounts.
func TestE2EMountTargets(t *testing.T) {
	need(t, "fusermount3")
	mroot := t.TempDir()
	d, remote := tcpDaemon(t, fmt.Sprintf("mount_root = %q", mroot))
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	shards := make([]string, 6)
	for i := range shards {
		shards[i] = filepath.Join(d.dir, fmt.Sprintf("shard%d", i))
	}
	d.createVaultWith("other", "--shards", strings.Join(shards, ","))
	reader, op1, op2 := d.token("reader"), d.token("restore-operator"), d.token("restore-operator")
	as := func(tok string, args ...string) (string, int) {
		_, errOut, code := d.run(append(append(append([]string{}, remote...), args...), "--token", tok)...)
		return errOut, code
	}

	full := filepath.Join(mroot, "full")
	mustOK(t, os.MkdirAll(full, 0o755))
	mustOK(t, os.WriteFile(filepath.Join(full, "keep"), []byte("x"), 0o644))
	var index []string
	filepath.WalkDir(d.data, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.IsDir() && e.Name() == "index" {
			index = append(index, p)
		}
		return nil
	})
	if len(index) == 0 {
		t.Fatalf("no index directory under %s", d.data)
	}
	for _, c := range []struct {
		name, tok, mp, want string
		code                int
	}{
		{"reader", reader, filepath.Join(mroot, "r"), "", 5},
		{"non-empty", op1, full, "not empty", 2},
		{"index as operator", op1, index[0], "mount_root", 5},
		{"index as admin", d.token("admin"), index[0], "would cover", 2},
		{"shard as admin", d.token("admin"), shards[2], "would cover", 2},
		{"parent of data as admin", d.token("admin"), d.dir, "would cover", 2},
	} {
		if c.name == "reader" {
			mustOK(t, os.MkdirAll(c.mp, 0o755))
		}
		errOut, code := as(c.tok, "mount", c.mp)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: mount %s: exit %d %q, want %d %q", c.name, c.mp, code, errOut, c.code, c.want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(full, "keep")); string(b) != "x" {
		t.Error("the non-empty directory's file is hidden or gone")
	}

	mp := filepath.Join(mroot, "ok")
	mustOK(t, os.Mkdir(mp, 0o755))
	if errOut, code := as(op1, "mount", mp, "--expire", "1000h"); code != 2 || !strings.Contains(errOut, "mount_max_expire") {
		t.Fatalf("--expire 1000h: exit %d %q, want 2 naming mount_max_expire", code, errOut)
	}
	if errOut, code := as(op1, "mount", mp, "--expire", "1h"); code != 0 {
		t.Fatalf("restore-operator mount below mount_root: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(mp, "files")); err != nil {
		t.Fatalf("the mount does not show the item: %v", err)
	}
	if errOut, code := as(op2, "umount", mp); code != 5 || !strings.Contains(errOut, "mounted by") {
		t.Fatalf("another principal unmounted: exit %d %q, want 5", code, errOut)
	}
	var mounts []map[string]any
	d.jsonOf(&mounts, "mounts")
	if len(mounts) != 1 || mounts[0]["owner"] == "" || mounts[0]["owner"] == nil {
		t.Fatalf("mounts: %v, want one with its owner", mounts)
	}
	if errOut, code := as(op1, "umount", mp); code != 0 {
		t.Fatalf("the owner could not unmount: exit %d %q", code, errOut)
	}
}

// createVaultWith makes a vault with extra flags (e.g. --shards).
func (d *daemonProc) createVaultWith(name string, flags ...string) {
	d.t.Helper()
	pf := filepath.Join(d.dir, name+".pass")
	mustOK(d.t.(*testing.T), os.WriteFile(pf, []byte("correct horse battery "+name+"\n"), 0o600))
	d.must(append([]string{"vault", "create", name, "--passphrase-file", pf}, flags...)...)
}

// TestE2ENoSilentOverwrite is finding 4 of issue 13: restore disk refuses a
// non-empty file and a device holding a file system unless --force; key
// export refuses an existing file.
func TestE2ENoSilentOverwrite(t *testing.T) {
	need(t, "losetup", "mkfs.ext4", "qemu-img")
	d := startDaemon(t, "")
	img := filepath.Join(d.dir, "disk.raw")
	mustOK(t, os.WriteFile(img, bytes.Repeat([]byte("disk"), 1<<20), 0o644))
	d.must("item", "add", "d1", "--disk", img)
	d.must("backup", "d1")

	text := filepath.Join(d.dir, "notes.txt")
	mustOK(t, os.WriteFile(text, []byte("keep me\n"), 0o644))
	_, errOut, code := d.run("restore", "disk", "d1", "--point", "latest", "--to", text)
	if code == 0 || !strings.Contains(errOut, text) || !strings.Contains(errOut, "--force") {
		t.Fatalf("restore over a text file: exit %d %q, want a refusal naming it and --force", code, errOut)
	}
	if b, _ := os.ReadFile(text); string(b) != "keep me\n" {
		t.Fatal("the text file was overwritten")
	}
	d.must("restore", "disk", "d1", "--point", "latest", "--to", text, "--force")
	if b, _ := os.ReadFile(text); !bytes.Equal(b, bytes.Repeat([]byte("disk"), 1<<20)) {
		t.Fatal("restore --force did not write the disk")
	}

	back := filepath.Join(d.dir, "loop.img")
	mustOK(t, os.WriteFile(back, nil, 0o600))
	mustOK(t, os.Truncate(back, 8<<20))
	sh(t, "mkfs.ext4", "-q", "-F", back)
	dev := strings.TrimSpace(sh(t, "losetup", "--find", "--show", back))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	_, errOut, code = d.run("restore", "disk", "d1", "--point", "latest", "--to", dev)
	if code == 0 || !strings.Contains(errOut, dev) || !strings.Contains(errOut, "ext2/3/4") || !strings.Contains(errOut, "--force") {
		t.Fatalf("restore over an ext4 device: exit %d %q, want a refusal naming it, the file system and --force", code, errOut)
	}
	if out := sh(t, "blkid", "-o", "value", "-s", "TYPE", dev); strings.TrimSpace(out) != "ext4" {
		t.Fatalf("the device lost its file system: %q", out)
	}

	// qcow2: made in a private directory, renamed into place, never over a file without --force.
	q := filepath.Join(d.dir, "out.qcow2")
	d.must("restore", "disk", "d1", "--point", "latest", "--to", q, "--format", "qcow2", "--verify")
	sh(t, "qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", img, q)
	if _, errOut, code := d.run("restore", "disk", "d1", "--point", "latest", "--to", q, "--format", "qcow2"); code == 0 || !strings.Contains(errOut, "--force") {
		t.Fatalf("qcow2 restore over an existing image: exit %d %q", code, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(d.dir, ".out.qcow2.rewind-restore-*")); len(left) > 0 {
		t.Fatalf("work directories left behind: %v", left)
	}

	key := filepath.Join(d.dir, "key.out")
	mustOK(t, os.WriteFile(key, []byte("precious"), 0o600))
	_, errOut, code = d.run("vault", "key", "export", "default", "--to", key)
	if code == 0 || !strings.Contains(errOut, key) || !strings.Contains(errOut, "exists") {
		t.Fatalf("key export over a file: exit %d %q", code, errOut)
	}
	if b, _ := os.ReadFile(key); string(b) != "precious" {
		t.Fatal("key export overwrote the file")
	}
	d.must("vault", "key", "export", "default", "--to", filepath.Join(d.dir, "key.new"))
}
