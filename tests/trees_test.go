package tests

import (
	"bytes"
	"crypto/rand"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// makeTree writes a small tree with the entry types a share restore must keep.
func makeTree(t testing.TB, root string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "docs/deep/er"), 0o755))
	must(os.WriteFile(filepath.Join(root, "docs/readme.txt"), []byte("hello rewind\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "docs/deep/er/secret"), []byte("top secret"), 0o600))
	big := make([]byte, 5<<20+123)
	_, _ = rand.Read(big)
	must(os.WriteFile(filepath.Join(root, "big.bin"), big, 0o640))
	must(os.WriteFile(filepath.Join(root, "empty"), nil, 0o644))
	must(os.Symlink("docs/readme.txt", filepath.Join(root, "link")))
	must(os.Link(filepath.Join(root, "docs/readme.txt"), filepath.Join(root, "hardlink.txt")))
}

// compareTrees fails on any difference in names, types, contents, modes,
// owners, mtimes or symlink targets between a and b.
func compareTrees(t testing.TB, a, b string) {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(a, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		seen[rel] = true
		compareEntry(t, rel, p, filepath.Join(b, rel))
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", a, err)
	}
	_ = filepath.WalkDir(b, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(b, p)
		if !seen[rel] {
			t.Errorf("%s: only in %s", rel, b)
		}
		return nil
	})
}

func compareEntry(t testing.TB, rel, pa, pb string) {
	t.Helper()
	var sa, sb syscall.Stat_t
	if err := syscall.Lstat(pa, &sa); err != nil {
		t.Errorf("%s: %v", rel, err)
		return
	}
	if err := syscall.Lstat(pb, &sb); err != nil {
		t.Errorf("%s: missing: %v", rel, err)
		return
	}
	if sa.Mode != sb.Mode || sa.Uid != sb.Uid || sa.Gid != sb.Gid {
		t.Errorf("%s: mode/owner %o %d:%d, want %o %d:%d", rel, sb.Mode, sb.Uid, sb.Gid, sa.Mode, sa.Uid, sa.Gid)
	}
	switch sa.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		if sa.Mtim.Sec != sb.Mtim.Sec {
			t.Errorf("%s: mtime %d, want %d", rel, sb.Mtim.Sec, sa.Mtim.Sec)
		}
		ca, _ := os.ReadFile(pa)
		cb, err := os.ReadFile(pb)
		if err != nil || !bytes.Equal(ca, cb) {
			t.Errorf("%s: contents differ (%v)", rel, err)
		}
	case syscall.S_IFLNK:
		la, _ := os.Readlink(pa)
		lb, _ := os.Readlink(pb)
		if la != lb {
			t.Errorf("%s: symlink %q, want %q", rel, lb, la)
		}
	}
}
