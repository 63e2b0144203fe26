package guest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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

// TestNTFSMetadata writes through ntfs-3g a file with an alternate data
// stream (ntfs-3g's default streams_interface=xattr names it user.*), a
// sparse file and set access and modification times, and reads them back
// as xattrs, a data map with a hole, and times.
func TestNTFSMetadata(t *testing.T) {
	tmp := t.TempDir()
	img := filepath.Join(tmp, "ntfs.img")
	sparseFile(t, img, 32<<20)
	run(t, "mkntfs", "-F", "-Q", "-q", img)
	mnt := t.TempDir()
	run(t, "ntfs-3g", img, mnt)
	mounted := true
	t.Cleanup(func() {
		if mounted {
			run(t, "fusermount", "-u", mnt)
		}
	})
	must(t, os.WriteFile(filepath.Join(mnt, "ads"), []byte("main"), 0o644))
	run(t, "setfattr", "-n", "user.zone", "-v", "stream data", filepath.Join(mnt, "ads"))
	f, err := os.Create(filepath.Join(mnt, "sparse"))
	must(t, err)
	_, err = f.WriteAt([]byte("end"), 8<<20)
	must(t, err)
	must(t, f.Close())
	at, mt := time.Date(2010, 1, 2, 3, 4, 5, 600000000, time.UTC), time.Date(2011, 6, 7, 8, 9, 10, 100000000, time.UTC)
	must(t, os.Chtimes(filepath.Join(mnt, "ads"), at, mt))
	run(t, "fusermount", "-u", mnt)
	mounted = false

	r, size := openImage(t, img)
	fsys, err := OpenFS(testCtx(t), r, size, TypeNTFS)
	must(t, err)
	xs, err := fsys.Xattrs("ads")
	must(t, err)
	if len(xs) != 1 || xs[0].Name != "user.zone" || string(xs[0].Value) != "stream data" {
		t.Errorf("ads xattrs = %+v, want user.zone = \"stream data\"", xs)
	}
	e, err := fsys.Stat("ads")
	must(t, err)
	if !e.ModTime.Equal(mt) || !e.Atime.Equal(at) || e.Btime.IsZero() || e.Ctime.IsZero() {
		t.Errorf("times m %v a %v b %v c %v, want m %v a %v and birth and change times", e.ModTime, e.Atime, e.Btime, e.Ctime, mt, at)
	}
	sf, err := fsys.Open("sparse")
	must(t, err)
	d := sf.Data()
	if len(d) == 0 || d[0].Off == 0 || d[len(d)-1].Off+d[len(d)-1].Len != sf.Size() {
		t.Errorf("sparse file data map %+v (size %d): want a hole first and data at the end", d, sf.Size())
	}
	buf := make([]byte, 3)
	must(t, readFull(sf, buf, 8<<20))
	if string(buf) != "end" {
		t.Errorf("sparse file reads %q at 8 MiB", buf)
	}
}

// TestNTFSTimesAndHardLinks: NTFS keeps times from 1601 to 30828 in 100 ns
// units; ones outside 1678..2262 used to wrap (the library converts through
// int64 nanoseconds). Hard links (ntfs-3g's ln) are two names of one MFT
// record in one directory or two: both names are listed, with nlink 2 and
// one inode; a DOS 8.3 name is not a link.
func TestNTFSTimesAndHardLinks(t *testing.T) {
	tmp := t.TempDir()
	img := filepath.Join(tmp, "ntfs.img")
	sparseFile(t, img, 32<<20)
	run(t, "mkntfs", "-F", "-Q", "-q", img)
	mnt := t.TempDir()
	run(t, "ntfs-3g", img, mnt)
	mounted := true
	t.Cleanup(func() {
		if mounted {
			run(t, "fusermount", "-u", mnt)
		}
	})
	old, late := time.Date(1650, 1, 1, 0, 0, 0, 100, time.UTC), time.Date(2500, 1, 1, 0, 0, 0, 123456700, time.UTC)
	for name, tm := range map[string]time.Time{"old": old, "late": late} {
		p := filepath.Join(mnt, name)
		must(t, os.WriteFile(p, []byte(name), 0o644))
		at := unix.Timespec{Sec: tm.Unix(), Nsec: int64(tm.Nanosecond())}
		ts := []unix.Timespec{at, at}
		must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, 0))
	}
	must(t, os.Mkdir(filepath.Join(mnt, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(mnt, "f"), []byte("linked"), 0o644))
	must(t, os.Link(filepath.Join(mnt, "f"), filepath.Join(mnt, "f2")))
	must(t, os.Link(filepath.Join(mnt, "f"), filepath.Join(mnt, "d", "f3")))
	must(t, os.WriteFile(filepath.Join(mnt, "Long File Name.txt"), []byte("x"), 0o644))
	run(t, "fusermount", "-u", mnt)
	mounted = false

	r, size := openImage(t, img)
	fsys, err := OpenFS(testCtx(t), r, size, TypeNTFS)
	must(t, err)
	for name, want := range map[string]time.Time{"old": old, "late": late} {
		e, err := fsys.Stat(name)
		must(t, err)
		if !e.ModTime.Equal(want) || !e.Atime.Equal(want) {
			t.Errorf("%s: mtime %v atime %v, want %v", name, e.ModTime, e.Atime, want)
		}
	}
	var ino uint64
	for _, p := range []string{"f", "f2", "d/f3"} {
		e, err := fsys.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if e.Nlink != 3 || (ino != 0 && e.Ino != ino) {
			t.Errorf("%s: nlink %d ino %d, want 3 and one inode for all names", p, e.Nlink, e.Ino)
		}
		ino = e.Ino
	}
	if e, err := fsys.Stat("Long File Name.txt"); err != nil || e.Nlink != 1 {
		t.Errorf("a file with a DOS 8.3 name: %+v %v, want nlink 1", e, err)
	}
}
