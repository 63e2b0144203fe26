package tests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestE2EShareExclusions protects a directory that holds the daemon's own
// data directory, a tmpfs mount, a tagged directory and files matching
// --exclude patterns: a new item stays on one file system by default and
// never backs up the vault's own data.
func TestE2EShareExclusions(t *testing.T) {
	d := startDaemon(t, "")
	src := d.dir // holds data/ (the vault) and the socket
	for _, p := range []string{"share/keep.txt", "share/x.tmp", "share/sub/y.tmp", "share/sub/keep.log",
		"share/tagged/.nobackup", "share/tagged/data", "share/mnt/under"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mnt := filepath.Join(src, "share/mnt")
	if err := unix.Mount("none", mnt, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatalf("mount tmpfs: %v (run as root)", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(mnt, "other-fs"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.must("item", "add", "all", "--share", src, "--exclude", "*.tmp", "--exclude-if-present", ".nobackup")
	d.run("backup", "all") // warns about the mount point (exit 3)
	dst := filepath.Join(t.TempDir(), "r")
	d.run("restore", "share", "all", "--point", "latest", "--to", dst)
	for _, p := range []string{"share/keep.txt", "share/sub/keep.log", "share/mnt"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); err != nil {
			t.Errorf("%s: %v, want it restored", p, err)
		}
	}
	for _, p := range []string{"data", "share/x.tmp", "share/sub/y.tmp", "share/tagged", "share/mnt/other-fs"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want it left out", p, err)
		}
	}
	_, errOut, code := d.run("item", "add", "bad", "--share", src, "--exclude", "[oops")
	if code != 2 && code != 1 {
		t.Errorf("a bad pattern: exit %d (%s), want a refusal", code, errOut)
	}
}

// TestE2EShareLeavesOutOtherVaultsShards: a share that holds the shard
// targets of another vault on this daemon does not back them up (two
// vaults protecting each other's shards would each grow with the other's
// backups, and the point would hold a copy of the other vault's wrapped key).
func TestE2EShareLeavesOutOtherVaultsShards(t *testing.T) {
	d := startDaemon(t, "")
	share := filepath.Join(d.dir, "share")
	var shards []string
	for _, s := range []string{"s1", "s2", "s3"} {
		shards = append(shards, filepath.Join(share, "shards", s))
		if err := os.MkdirAll(shards[len(shards)-1], 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(share, "keep.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(d.dir, "other.pass")
	if err := os.WriteFile(pf, []byte("correct horse battery other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.must("vault", "create", "other", "--passphrase-file", pf, "--shards", strings.Join(shards, ","),
		"--data-shards", "2", "--parity-shards", "1", "--allow-unsafe-placement")
	d.must("item", "add", "files", "--share", share)
	d.must("backup", "files")
	dst := filepath.Join(t.TempDir(), "r")
	d.must("restore", "share", "files", "--point", "latest", "--to", dst)
	if _, err := os.Lstat(filepath.Join(dst, "keep.txt")); err != nil {
		t.Errorf("keep.txt: %v, want it restored", err)
	}
	for _, s := range []string{"s1", "s2", "s3"} {
		if _, err := os.Lstat(filepath.Join(dst, "shards", s)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("shards/%s (vault other's shard target): %v, want it left out", s, err)
		}
	}
}

// TestE2EMountBindMountedDirectory: --one-file-system stays on one device,
// so a bind mount of the share's own directory inside it is recorded twice
// (as rsync -x and restic do). The mount must serve both copies: a
// directory that shares its source inode with an ancestor used to get the
// ancestor's inode number, and the kernel refused it (ELOOP).
func TestE2EMountBindMountedDirectory(t *testing.T) {
	d := startDaemon(t, "")
	share := filepath.Join(d.dir, "share")
	for _, p := range []string{"a/f", "sub/loop/.keep"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(share, p)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(share, "a/f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(share, "sub/loop")
	if err := unix.Mount(share, loop, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount: %v (run as root)", err)
	}
	t.Cleanup(func() { unix.Unmount(loop, unix.MNT_DETACH) })
	d.must("item", "add", "bound", "--share", share)
	d.must("backup", "bound")
	mnt := filepath.Join(d.dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	d.must("mount", mnt)
	t.Cleanup(func() { d.run("umount", mnt) })
	point := filepath.Join(mnt, "bound", "latest")
	for _, p := range []string{"sub/loop/a/f", "sub/loop/sub", "a/f"} {
		if _, err := os.Stat(filepath.Join(point, p)); err != nil {
			t.Errorf("%s in the mount: %v", p, err)
		}
	}
}

// TestE2EExcludePatternKeptWhole: a pattern reaches the daemon as typed. A
// comma is part of a name ("*,v" is how RCS files end) and so is a trailing
// space; split at the comma, "*,v" became "*" and "v" and the backup left
// out everything.
func TestE2EExcludePatternKeptWhole(t *testing.T) {
	d := startDaemon(t, "")
	share := filepath.Join(d.dir, "share")
	for _, p := range []string{"keep.txt", "v", "file.c,v", "a,b/x", "trail "} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(share, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(share, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.must("item", "add", "rcs", "--share", share, "--exclude", "*,v", "--exclude", "trail ", "--exclude-if-present", "x")
	var items []map[string]any
	d.jsonOf(&items, "item", "list")
	d.must("backup", "rcs")
	dst := filepath.Join(t.TempDir(), "r")
	d.must("restore", "share", "rcs", "--point", "latest", "--to", dst)
	for _, p := range []string{"keep.txt", "v"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); err != nil {
			t.Errorf("%s: %v, want it backed up (items: %v)", p, err, items)
		}
	}
	for _, p := range []string{"file.c,v", "trail ", "a,b"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: %v, want it left out (items: %v)", p, err, items)
		}
	}
}

// TestE2ERestorePathKeptWhole: restore files and restore share take each
// --path as typed; a comma or a trailing space is part of the name (the
// CLI used to split "q1,q2.pdf" into "q1" and "q2.pdf").
func TestE2ERestorePathKeptWhole(t *testing.T) {
	d := startDaemon(t, "")
	share := filepath.Join(d.dir, "share")
	if err := os.MkdirAll(share, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"q1", "q1,q2.pdf", "q2.pdf", "sp "} {
		if err := os.WriteFile(filepath.Join(share, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d.must("item", "add", "docs", "--share", share)
	d.must("backup", "docs")
	for _, kind := range []string{"files", "share"} {
		dst := filepath.Join(t.TempDir(), "r")
		d.must("restore", kind, "docs", "--point", "latest", "--to", dst, "--path", "/q1,q2.pdf", "--path", "sp ")
		var got []string
		ents, err := os.ReadDir(dst)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			got = append(got, e.Name())
		}
		if strings.Join(got, "|") != "q1,q2.pdf|sp " {
			t.Errorf("restore %s --path /q1,q2.pdf --path 'sp ': restored %q", kind, got)
		}
	}
}

// TestE2EShareLeavesOutDaemonMounts: with --one-file-system=false a share
// that holds one of this daemon's own mounts does not back it up: the mount
// is a decrypted view of a vault (a disk point shows the whole disk image),
// and each backup would hold the one before it.
func TestE2EShareLeavesOutDaemonMounts(t *testing.T) {
	d := startDaemon(t, "")
	share := filepath.Join(d.dir, "share")
	mustOK(t, os.MkdirAll(filepath.Join(share, "mnt"), 0o755))
	mustOK(t, os.WriteFile(filepath.Join(share, "keep.txt"), []byte("keep"), 0o644))
	d.must("item", "add", "first", "--share", share)
	d.must("backup", "first")
	d.must("mount", filepath.Join(share, "mnt"))
	t.Cleanup(func() { d.run("umount", filepath.Join(share, "mnt")) })
	d.must("item", "add", "crossing", "--share", share, "--one-file-system=false")
	d.must("backup", "crossing")
	dst := filepath.Join(t.TempDir(), "r")
	d.must("restore", "share", "crossing", "--point", "latest", "--to", dst)
	if _, err := os.Lstat(filepath.Join(dst, "keep.txt")); err != nil {
		t.Errorf("keep.txt: %v, want it restored", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "mnt")); !errors.Is(err, os.ErrNotExist) {
		ents, _ := os.ReadDir(filepath.Join(dst, "mnt"))
		t.Errorf("the daemon's own mount was backed up (%v, %d entries), want it left out", err, len(ents))
	}
}
