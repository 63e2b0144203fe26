package fileshare

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

// TestOneFileSystem mounts a real tmpfs inside the source: with
// OneFileSystem it is recorded empty with a warning, without it is walked.
func TestOneFileSystem(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	mnt := filepath.Join(src, "mnt")
	writeFile(t, filepath.Join(src, "here"), []byte("same fs"), 0o644)
	writeFile(t, filepath.Join(mnt, "placeholder"), nil, 0o644)
	if err := unix.Mount("none", mnt, "tmpfs", 0, "size=4m"); err != nil {
		t.Fatalf("mount tmpfs: %v (the test needs CAP_SYS_ADMIN: run as root)", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	writeFile(t, filepath.Join(mnt, "there"), []byte("other fs"), 0o644)
	s := newStore(t)
	for _, one := range []bool{true, false} {
		res := backupTo(t, s, src, blockstore.ID{}, BackupOptions{OneFileSystem: one})
		tr, err := OpenTree(ctx, s, res.Root)
		must(t, err)
		_, err = tr.Lookup(ctx, "mnt/there")
		switch {
		case one && (!errors.Is(err, ErrNotExist) || !hasWarning(res.Warnings, "/mnt", "another file system")):
			t.Fatalf("OneFileSystem: lookup %v, warnings %q", err, res.Warnings)
		case !one && err != nil:
			t.Fatalf("crossing mounts: %v", err)
		}
	}
}
