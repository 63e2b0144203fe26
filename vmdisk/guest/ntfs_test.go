package guest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
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

// TestNTFSCompressed writes through ntfs-3g -o compression into a directory
// marked compressed, so files are stored LZNT1-compressed.
func TestNTFSCompressed(t *testing.T) {
	needTool(t, "setfattr")
	tmp := t.TempDir()
	img := filepath.Join(tmp, "ntfs.img")
	sparseFile(t, img, 32<<20)
	run(t, "mkntfs", "-F", "-Q", "-q", img)
	mnt := filepath.Join(tmp, "mnt")
	must(t, os.Mkdir(mnt, 0o755))
	run(t, "ntfs-3g", "-o", "compression", img, mnt)
	mounted := true
	t.Cleanup(func() {
		if mounted {
			run(t, "fusermount", "-u", mnt)
		}
	})
	must(t, os.Mkdir(filepath.Join(mnt, "c"), 0o755))
	run(t, "setfattr", "-n", "system.ntfs_attrib_be", "-v", "0x00000810", filepath.Join(mnt, "c"))
	var text []byte
	for i := 0; len(text) < 2<<20; i++ {
		text = append(text, fmt.Sprintf("line %d of a compressible file\n", i%5000)...)
	}
	must(t, os.WriteFile(filepath.Join(mnt, "c/text.txt"), text, 0o644))
	var st syscall.Stat_t
	must(t, syscall.Stat(filepath.Join(mnt, "c/text.txt"), &st))
	run(t, "fusermount", "-u", mnt)
	mounted = false
	if st.Blocks*512 >= int64(len(text))/2 {
		t.Fatalf("file not compressed: %d blocks for %d bytes", st.Blocks, len(text))
	}
	r, size := openImage(t, img)
	fsys, err := OpenFS(testCtx(t), r, size, TypeNTFS)
	must(t, err)
	f, err := fsys.Open("c/text.txt")
	must(t, err)
	got := make([]byte, f.Size())
	if n, err := f.ReadAt(got, 0); n != len(text) || !bytes.Equal(got, text) {
		t.Fatalf("read %d bytes (%v), want %d identical", n, err, len(text))
	}
	// and a read in the middle of a compression unit
	mid := make([]byte, 1000)
	if _, err := f.ReadAt(mid, 70001); err != nil || !bytes.Equal(mid, text[70001:71001]) {
		t.Fatalf("middle read: %v", err)
	}
}
