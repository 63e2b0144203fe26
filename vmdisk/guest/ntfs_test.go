package guest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// mkNTFS builds an NTFS image from dir by mounting it with ntfs-3g (FUSE).
func mkNTFS(t testing.TB, img, dir string, size int64) {
	sparseFile(t, img, size)
	run(t, "mkntfs", "-F", "-Q", "-q", "-L", "REWIND", img)
	mnt := t.TempDir()
	run(t, "ntfs-3g", img, mnt)
	mounted := true
	unmount := func() {
		if mounted {
			run(t, "fusermount", "-u", mnt)
			mounted = false
		}
	}
	t.Cleanup(unmount)
	run(t, "cp", "-a", dir+"/.", mnt+"/")
	// cp -a sets times, but set them again after all writes
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&os.ModeSymlink == 0 {
			rel, _ := filepath.Rel(dir, p)
			os.Chtimes(filepath.Join(mnt, rel), fi.ModTime(), fi.ModTime())
		}
		return nil
	})
	unmount()
}

func TestNTFS(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeTree(t, src, treeOpts{many: 300, symlinks: true})
	img := filepath.Join(tmp, "ntfs.img")
	mkNTFS(t, img, src, 64<<20)
	r, size := openImage(t, img)
	if got := detect(r, size); got != TypeNTFS {
		t.Fatalf("detect = %s", got)
	}
	fsys, err := OpenFS(testCtx(t), r, size, TypeNTFS)
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, fsys, src, cmpOpts{mtime: time.Microsecond, symlinks: true})
	if err := fstestSub(fsys, "dir"); err != nil {
		t.Fatal(err)
	}
}
