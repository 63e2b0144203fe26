package tests

import (
	"errors"
	"os"
	"path/filepath"
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
