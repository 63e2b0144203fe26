package guest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// installHint names the Debian package of each tool the tests run.
var installHint = map[string]string{
	"sgdisk": "gdisk", "sfdisk": "fdisk", "mke2fs": "e2fsprogs", "mkfs.xfs": "xfsprogs",
	"mkfs.vfat": "dosfstools", "mcopy": "mtools", "mmd": "mtools", "mkntfs": "ntfs-3g", "ntfscp": "ntfs-3g",
	"ntfs-3g": "ntfs-3g", "pvcreate": "lvm2", "vgcreate": "lvm2", "lvcreate": "lvm2", "losetup": "mount", "mkswap": "util-linux", "setfattr": "attr", "fusermount": "fuse3",
	"setcap": "libcap2-bin", "setfacl": "acl", "mount": "mount", "umount": "mount", "touch": "coreutils",
}

func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: apt-get install %s", name, installHint[name])
	}
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	needTool(t, name)
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1", "LVM_SUPPRESS_FD_WARNINGS=1", "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

var testTime = time.Date(2021, 3, 4, 5, 6, 8, 0, time.UTC)

// treeOpts says what a file system can hold.
type treeOpts struct {
	symlinks bool
	owners   bool // uid/gid and full permission bits
	many     int  // files in a large directory
	smallBig bool // "big.bin" of 300 KiB instead of > 4 MiB (for fstest's byte-wise reads)
}

// makeTree writes the reference tree: nested directories, a file > 4 MiB,
// an empty file, symlinks (short, long, relative), modes and owners.
func makeTree(t testing.TB, dir string, o treeOpts) {
	t.Helper()
	rnd := rand.New(rand.NewSource(42))
	big := make([]byte, 5<<20+12345)
	if o.smallBig {
		big = big[:300<<10+7]
	}
	rnd.Read(big)
	files := map[string][]byte{
		"hello.txt":              []byte("hello, world\n"),
		"empty":                  nil,
		"big.bin":                big,
		"dir/sub/deep.txt":       []byte(strings.Repeat("deep ", 1000)),
		"dir/exec.sh":            []byte("#!/bin/sh\necho hi\n"),
		"dir/sub/more/third.dat": bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 9999),
		"dir/sub/more/" + strings.Repeat("x", 80): []byte("long name\n"),
	}
	for i := 0; i < o.many; i++ {
		files[fmt.Sprintf("many/file-with-a-longer-name-%04d.txt", i)] = []byte(fmt.Sprint(i))
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !o.smallBig {
		writeSparse(t, filepath.Join(dir, "sparse.bin"))
	}
	if o.owners {
		must(t, os.Chmod(filepath.Join(dir, "dir/exec.sh"), 0o755))
		must(t, os.Chmod(filepath.Join(dir, "dir/sub"), 0o750))
		must(t, os.Chown(filepath.Join(dir, "hello.txt"), 1234, 5678))
	}
	if o.symlinks {
		must(t, os.Symlink("hello.txt", filepath.Join(dir, "link")))
		must(t, os.Symlink("../hello.txt", filepath.Join(dir, "dir/uplink")))
		must(t, os.Symlink("sub/more/"+strings.Repeat("x", 80), filepath.Join(dir, "dir/longlink")))
	}
	// mtimes last, deepest first, so directory times stick
	var paths []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { paths = append(paths, p); return nil })
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for i, p := range paths {
		tm := testTime.Add(time.Duration(i) * time.Hour)
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
			must(t, os.Chtimes(p, tm, tm))
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// cmpOpts says which attributes a file system keeps exactly.
type cmpOpts struct {
	modes    bool          // permission bits and owners
	mtime    time.Duration // allowed mtime difference; <0: don't compare
	symlinks bool
}

// compareTree checks every file under host against fsys: type, size, mode,
// owner, mtime, symlink target and every byte.
func compareTree(t *testing.T, fsys FS, host string, o cmpOpts) {
	t.Helper()
	count := 0
	err := filepath.Walk(host, func(p string, hfi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(host, p)
		rel = filepath.ToSlash(rel)
		e, err := fsys.Stat(rel)
		if err != nil {
			t.Errorf("stat %s: %v", rel, err)
			return nil
		}
		count++
		if e.Mode.Type() != hfi.Mode().Type() {
			t.Errorf("%s: type %v, want %v", rel, e.Mode.Type(), hfi.Mode().Type())
			return nil
		}
		if o.modes {
			if e.Mode != hfi.Mode() {
				t.Errorf("%s: mode %v, want %v", rel, e.Mode, hfi.Mode())
			}
			st := statT(hfi)
			if e.Uid != st[0] || e.Gid != st[1] {
				t.Errorf("%s: owner %d:%d, want %d:%d", rel, e.Uid, e.Gid, st[0], st[1])
			}
		}
		if o.mtime >= 0 && hfi.Mode()&fs.ModeSymlink == 0 && rel != "." {
			if d := e.ModTime.Sub(hfi.ModTime()); d > o.mtime || d < -o.mtime {
				t.Errorf("%s: mtime %v, want %v", rel, e.ModTime.UTC(), hfi.ModTime().UTC())
			}
		}
		if e.Ino == 0 {
			t.Errorf("%s: inode 0", rel)
		}
		switch {
		case hfi.Mode()&fs.ModeSymlink != 0:
			want, _ := os.Readlink(p)
			if got, err := fsys.Readlink(rel); err != nil || got != want {
				t.Errorf("readlink %s = %q, %v; want %q", rel, got, err, want)
			}
		case hfi.Mode().IsRegular():
			if e.Size != hfi.Size() {
				t.Errorf("%s: size %d, want %d", rel, e.Size, hfi.Size())
			}
			want, _ := os.ReadFile(p)
			f, err := fsys.Open(rel)
			if err != nil {
				t.Errorf("open %s: %v", rel, err)
				return nil
			}
			got, err := io.ReadAll(io.NewSectionReader(f, 0, f.Size()))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: content differs (%d bytes read, want %d): %v", rel, len(got), len(want), err)
			}
		case hfi.IsDir():
			ents, err := fsys.ReadDir(rel)
			hents, _ := os.ReadDir(p)
			if rel == "." {
				ents = dropName(ents, "lost+found") // made by mke2fs
			}
			if err != nil || len(ents) != len(hents) {
				t.Errorf("readdir %s: %d entries, %v; want %d", rel, len(ents), err, len(hents))
			}
		}
		return nil
	})
	must(t, err)
	if count < 8 {
		t.Errorf("only %d files compared", count)
	}
}

// copyInto writes src into dst at off, leaving all-zero blocks as holes.
func copyInto(t testing.TB, dst, src string, off int64) {
	t.Helper()
	in, err := os.Open(src)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	must(t, err)
	defer out.Close()
	buf := make([]byte, 1<<20)
	for pos := int64(0); ; {
		n, err := in.ReadAt(buf, pos)
		if n > 0 && !allZero(buf[:n]) {
			if _, werr := out.WriteAt(buf[:n], off+pos); werr != nil {
				t.Fatal(werr)
			}
		}
		pos += int64(n)
		if err == io.EOF {
			return
		}
		must(t, err)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func sparseFile(t testing.TB, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	must(t, f.Truncate(size))
	must(t, f.Close())
}

// openImage opens path as a ReaderAt for the test's lifetime.
func openImage(t testing.TB, path string) (*os.File, int64) {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	must(t, err)
	return f, fi.Size()
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mkExt builds an ext file system image of size bytes from dir.
func mkExt(t testing.TB, img, dir, kind string, size int64, extra ...string) {
	sparseFile(t, img, size)
	args := append([]string{"-q", "-F", "-t", kind, "-d", dir, "-E", "root_owner=0:0"}, extra...)
	run(t, "mke2fs", append(args, img)...)
}

func dropName(ents []Entry, name string) []Entry {
	var out []Entry
	for _, e := range ents {
		if e.Name != name {
			out = append(out, e)
		}
	}
	return out
}

func sprint(args ...any) string                 { return fmt.Sprint(args...) }
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func runStdin(t testing.TB, stdin, name string, args ...string) string {
	t.Helper()
	needTool(t, name)
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fstestSub runs fstest.TestFS on the subtree dir of fsys (the byte-wise
// reads fstest does on the 5 MiB file cost seconds per file system; ext4's
// test runs it on a whole volume).
func fstestSub(fsys FS, dir string) error {
	sub, err := fs.Sub(AsIOFS(fsys), dir)
	if err != nil {
		return err
	}
	return fstest.TestFS(sub, "sub/deep.txt")
}

// writeSparse writes 8 MiB with 32 KiB of data every 96 KiB and holes
// between (many extents: an ext4 extent tree with index nodes, an XFS btree
// fork).
func writeSparse(t testing.TB, p string) {
	f, err := os.Create(p)
	must(t, err)
	defer f.Close()
	rnd := rand.New(rand.NewSource(7))
	piece := make([]byte, 32<<10)
	for off := int64(0); off < 8<<20; off += 96 << 10 {
		rnd.Read(piece)
		_, err := f.WriteAt(piece, off)
		must(t, err)
	}
	must(t, f.Truncate(8<<20+100))
}

func runQuiet(name string, args ...string) error {
	return exec.Command(name, args...).Run()
}
