package guest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// mkFAT builds a FAT image of the given size and bits from dir with mcopy.
func mkFAT(t testing.TB, img, dir string, bits string, size int64) {
	sparseFile(t, img, size)
	run(t, "mkfs.vfat", "-F", bits, "-n", "REWIND", img)
	ents, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range ents {
		run(t, "mcopy", "-s", "-m", "-i", img, filepath.Join(dir, e.Name()), "::/")
	}
}

func TestFAT(t *testing.T) {
	for _, tc := range []struct {
		bits string
		size int64
		many int
	}{{"32", 64 << 20, 300}, {"16", 32 << 20, 300}, {"12", 8 << 20, 20}} { // FAT12 gets the small tree
		t.Run("FAT"+tc.bits, func(t *testing.T) {
			tmp := t.TempDir()
			src := filepath.Join(tmp, "src")
			makeTree(t, src, treeOpts{many: tc.many, smallBig: tc.bits == "12"})
			img := filepath.Join(tmp, "fat.img")
			mkFAT(t, img, src, tc.bits, tc.size)
			r, size := openImage(t, img)
			if got := detect(r, size); got != TypeVFAT {
				t.Fatalf("detect = %s", got)
			}
			fsys, err := OpenFS(testCtx(t), r, size, TypeVFAT)
			if err != nil {
				t.Fatal(err)
			}
			compareTree(t, fsys, src, cmpOpts{mtime: 2 * time.Second})
			if err := fstestSub(fsys, "dir"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
