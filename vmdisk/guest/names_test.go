package guest

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestNonUTF8Names: Linux names are bytes, and guests that used Latin-1
// (or any legacy charset) hold names that are not UTF-8. Every call that
// takes a path must reach such entries: a directory's contents, a file's
// data and xattrs, a symlink's target.
func TestNonUTF8Names(t *testing.T) {
	needTool(t, "mke2fs")
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	dir := filepath.Join(src, "d\xe9j\xe0")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("inside"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "caf\xe9"), []byte("latin-1"), 0o644))
	run(t, "setfattr", "-n", "user.a", "-v", "1", filepath.Join(src, "caf\xe9"))
	must(t, os.Symlink("caf\xe9", filepath.Join(src, "l\xe9")))
	img := filepath.Join(tmp, "fs.img")
	mkExt(t, img, src, "ext4", 16<<20)
	r, size := openImage(t, img)
	fsys, err := OpenFS(testCtx(t), r, size, "ext4")
	must(t, err)

	ents, err := fsys.ReadDir("d\xe9j\xe0")
	if err != nil || len(ents) != 1 || ents[0].Name != "f" {
		t.Errorf("ReadDir of a non-UTF-8 directory: %v, %v", ents, err)
	}
	f, err := fsys.Open("caf\xe9")
	if err != nil {
		t.Fatalf("Open of a non-UTF-8 name: %v", err)
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
	if err != nil || string(b) != "latin-1" {
		t.Errorf("contents %q, %v", b, err)
	}
	xs, err := fsys.Xattrs("caf\xe9")
	if err != nil || len(xs) != 1 || xs[0].Name != "user.a" {
		t.Errorf("Xattrs of a non-UTF-8 name: %v, %v", xs, err)
	}
	if tg, err := fsys.Readlink("l\xe9"); err != nil || tg != "caf\xe9" {
		t.Errorf("Readlink of a non-UTF-8 name: %q, %v", tg, err)
	}
	for _, bad := range []string{"../x", "a/../b", "a//b", "a/./b", "a\x00b"} {
		if _, err := fsys.Stat(bad); err == nil {
			t.Errorf("Stat(%q) accepted a path that is not clean", bad)
		}
	}
}
