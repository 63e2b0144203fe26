package fileshare

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
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

// TestBackupExclusions: gitignore-style patterns, a tag file and the
// vault's own directories (named through a symlink) are left out; the rest
// is recorded, and a bad pattern fails the backup before anything is read.
func TestBackupExclusions(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	src := filepath.Join(base, "src")
	for _, p := range []string{"keep.txt", "a.tmp", "sub/b.tmp", "sub/keep.log", "sub/x.log", "build/out",
		"src/build/kept", "tagged/.nobackup", "tagged/data", "vault/data/seg", "shards/1/seg"} {
		writeFile(t, filepath.Join(src, p), []byte(p), 0o644)
	}
	must(t, unix.Symlink(filepath.Join(src, "shards/1"), filepath.Join(base, "shard-link")))
	s := newStore(t)
	res := backupTo(t, s, src, blockstore.ID{}, BackupOptions{
		Exclude:          []string{"*.tmp", "/build/", "*.log", "!keep.log"},
		ExcludeIfPresent: []string{".nobackup"},
		ExcludePaths:     []string{filepath.Join(src, "vault"), filepath.Join(base, "shard-link"), "/does/not/exist"},
	})
	tr, err := OpenTree(ctx, s, res.Root)
	must(t, err)
	for _, p := range []string{"keep.txt", "sub/keep.log", "src/build/kept", "shards"} {
		if _, err := tr.Lookup(ctx, p); err != nil {
			t.Errorf("%s: %v, want it recorded", p, err)
		}
	}
	for _, p := range []string{"a.tmp", "sub/b.tmp", "sub/x.log", "build", "tagged", "vault", "shards/1"} {
		if _, err := tr.Lookup(ctx, p); !errors.Is(err, ErrNotExist) {
			t.Errorf("%s: %v, want it excluded", p, err)
		}
	}
	if res.Excluded != 7 {
		t.Errorf("excluded %d entries, want 7", res.Excluded)
	}
	w := s.NewWriter()
	defer w.Close()
	if _, err := Backup(ctx, w, s, src, blockstore.ID{}, BackupOptions{Exclude: []string{"[bad"}}); err == nil || !strings.Contains(err.Error(), "[bad") {
		t.Errorf("bad pattern: %v", err)
	}
}
