package guest

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestDirectoryLoop rewrites a directory entry of a real ext4 image to point
// at the root: a walk must end with an error, not recurse forever.
func TestDirectoryLoop(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	must(t, os.MkdirAll(filepath.Join(src, "a/b"), 0o755))
	img := filepath.Join(tmp, "ext.img")
	mkExt(t, img, src, "ext4", 4<<20, "-O", "^metadata_csum")
	r, size := openImage(t, img)
	fsys, err := OpenFS(testCtx(t), r, size, TypeExt4)
	must(t, err)
	b, err := fsys.Stat("a/b")
	must(t, err)
	a, err := fsys.Stat("a")
	must(t, err)
	// find a's directory block and point its entry "b" at the root (2)
	ext := fsys.(*tree).b.(*extFS)
	in, err := ext.inode(a.Ino)
	must(t, err)
	f, err := ext.data(in)
	must(t, err)
	blk := make([]byte, ext.bs)
	must(t, readFull(f, blk, 0))
	data, err := os.ReadFile(img)
	must(t, err)
	phys := int64(f.(*blockFile).exts[0].pblk) * ext.bs
	for p := 0; p+8 < len(blk); {
		rec := int(binary.LittleEndian.Uint16(blk[p+4:]))
		if binary.LittleEndian.Uint32(blk[p:]) == uint32(b.Ino) {
			binary.LittleEndian.PutUint32(data[phys+int64(p):], extRootIno)
		}
		if rec == 0 {
			break
		}
		p += rec
	}
	bad := filepath.Join(tmp, "bad.img")
	must(t, os.WriteFile(bad, data, 0o644))
	r2, _ := openImage(t, bad)
	fsys2, err := OpenFS(testCtx(t), r2, size, TypeExt4)
	must(t, err)
	if _, err := fsys2.ReadDir("a/b"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadDir a/b = %v, want a directory-loop error", err)
	}
	if _, err := fsys2.ReadDir("a/b/a/b/a"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadDir a/b/a/b/a = %v, want a directory-loop error", err)
	}
}
