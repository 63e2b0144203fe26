package fsmount

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// makeSample builds a directory with everything a share point records:
// owners, modes, times, symlinks, hardlinks, xattrs, a sparse file, a big
// directory. withSpecial adds a fifo (fstest.TestFS would block opening it).
func makeSample(t testing.TB, dir string, withSpecial bool) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel string, data []byte, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, data, mode))
		must(os.Chmod(p, mode))
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	write("a.txt", []byte("hello, rewind\n"), 0o644)
	must(os.Chown(filepath.Join(dir, "a.txt"), 1234, 5678))
	must(unix.Setxattr(filepath.Join(dir, "a.txt"), "user.color", []byte("blue"), 0))
	write("secret", []byte("root only\n"), 0o600)
	write("empty", nil, 0o640)
	write("sub/dir/b.bin", random(200<<10), 0o755)
	write("sub/name with spaces é", []byte("x"), 0o444)
	write("hard1", random(5000), 0o644)
	must(os.Link(filepath.Join(dir, "hard1"), filepath.Join(dir, "sub", "hard2")))
	must(os.Symlink("a.txt", filepath.Join(dir, "link")))
	must(unix.Setxattr(filepath.Join(dir, "sub"), "user.dir", []byte("attr on a dir"), 0))

	f, err := os.Create(filepath.Join(dir, "sparse"))
	must(err)
	_, err = f.WriteAt(random(4096), 1<<20)
	must(err)
	_, err = f.WriteAt(random(8192), 7<<20)
	must(err)
	must(f.Truncate(10 << 20))
	must(f.Close())

	for i := range 1500 {
		write(fmt.Sprintf("big/%04d-%s", i, "entry-with-a-longish-name"), []byte{byte(i)}, 0o644)
	}
	if withSpecial {
		must(unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
		must(os.Symlink("../nowhere", filepath.Join(dir, "sub", "dangling")))
	}
	old := time.Date(2021, 3, 4, 5, 6, 7, 891011121, time.UTC)
	must(filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		must(err)
		ts := []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), unix.NsecToTimespec(old.UnixNano())}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	}))
}

// compareTrees is diff -r with metadata: every entry under orig must appear
// under mnt with the same type, mode, owner, size, mtime, link count, content,
// symlink target, xattrs and holes, and hardlinks must map to one inode.
func compareTrees(t testing.TB, orig, mnt string) { compare(t, orig, mnt, true) }

// compareGuest is compareTrees for a guest file system: no xattrs, holes or
// atime/ctime, and the root's link count differs (lost+found).
func compareGuest(t testing.TB, orig, mnt string) { compare(t, orig, mnt, false) }

func compare(t testing.TB, orig, mnt string, full bool) {
	t.Helper()
	mnt, err := filepath.EvalSymlinks(mnt)
	if err != nil {
		t.Fatal(err)
	}
	inos := map[uint64]uint64{}
	n := 0
	err = filepath.WalkDir(orig, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(orig, p)
		q := filepath.Join(mnt, rel)
		n++
		var a, b unix.Stat_t
		if err := unix.Lstat(p, &a); err != nil {
			return err
		}
		if err := unix.Lstat(q, &b); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if !full && rel == "." {
			return nil // mke2fs makes the root itself
		}
		if !full {
			a.Mtim.Nsec, b.Mtim.Nsec = 0, 0 // guest times: seconds
		}
		if a.Mode != b.Mode || a.Uid != b.Uid || a.Gid != b.Gid || a.Nlink != b.Nlink || a.Mtim != b.Mtim {
			return fmt.Errorf("%s: stat differs: orig mode %o uid %d gid %d nlink %d mtime %v; mount %o %d %d %d %v",
				rel, a.Mode, a.Uid, a.Gid, a.Nlink, a.Mtim, b.Mode, b.Uid, b.Gid, b.Nlink, b.Mtim)
		}
		if a.Mode&syscall.S_IFMT != syscall.S_IFDIR && a.Size != b.Size {
			return fmt.Errorf("%s: size %d, mount %d", rel, a.Size, b.Size)
		}
		if prev, ok := inos[a.Ino]; ok && prev != b.Ino {
			return fmt.Errorf("%s: hardlink shows inode %d, its other name %d", rel, b.Ino, prev)
		}
		inos[a.Ino] = b.Ino
		if err := sameXattrs(p, q); full && err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		switch a.Mode & syscall.S_IFMT {
		case syscall.S_IFLNK:
			x, _ := os.Readlink(p)
			y, err := os.Readlink(q)
			if err != nil || x != y {
				return fmt.Errorf("%s: link %q, mount %q (%v)", rel, x, y, err)
			}
		case syscall.S_IFREG:
			return sameContent(rel, p, q, a.Size, full)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(inos) > n {
		t.Fatal("inode map grew beyond entries")
	}
	seen := map[uint64]bool{}
	for _, m := range inos {
		seen[m] = true
	}
	if len(seen) != len(inos) {
		t.Fatalf("%d distinct original inodes show as %d mount inodes", len(inos), len(seen))
	}
	t.Logf("compared %d entries", n)
}

func sameContent(rel, p, q string, size int64, holesToo bool) error {
	x, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	y, err := os.ReadFile(q)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if !bytes.Equal(x, y) {
		return fmt.Errorf("%s: content differs", rel)
	}
	if a, b := holes(p, size), holes(q, size); holesToo && a != b {
		return fmt.Errorf("%s: holes differ: orig %s, mount %s", rel, a, b)
	}
	return nil
}

// holes describes a file's data/hole layout as SEEK_DATA/SEEK_HOLE see it.
func holes(p string, size int64) string {
	f, err := os.Open(p)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	s := ""
	for off := int64(0); off < size; {
		d, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break
		}
		if err != nil {
			return err.Error()
		}
		h, err := unix.Seek(int(f.Fd()), d, unix.SEEK_HOLE)
		if err != nil {
			return err.Error()
		}
		s += fmt.Sprintf("[%d,%d)", d, h)
		off = h
	}
	return s
}

func sameXattrs(p, q string) error {
	a, err := listXattrs(p)
	if err != nil {
		return err
	}
	b, err := listXattrs(q)
	if err != nil {
		return err
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		return fmt.Errorf("xattrs %v, mount %v", a, b)
	}
	return nil
}

func listXattrs(p string) (map[string]string, error) {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return nil, fmt.Errorf("listxattr %s: %w", p, err)
	}
	m := map[string]string{}
	for _, name := range bytes.Split(buf[:n], []byte{0}) {
		if len(name) == 0 {
			continue
		}
		v := make([]byte, 64<<10)
		vn, err := unix.Lgetxattr(p, string(name), v)
		if err != nil {
			return nil, fmt.Errorf("getxattr %s %s: %w", p, name, err)
		}
		m[string(name)] = string(v[:vn])
	}
	return m, nil
}
