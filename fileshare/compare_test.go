package fileshare

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// treeState is everything the comparison checks about one entry.
type treeState struct {
	mode, uid, gid uint32
	size           int64
	mtime, atime   unix.Timespec
	rdev           uint64
	nlink          uint64
	target         string
	xattrs         string
	data           []byte     // contents (nil for non-files and big sparse files)
	dataMap        [][2]int64 // SEEK_DATA/SEEK_HOLE regions
	ino            uint64
}

// diffTrees compares two trees entry by entry and returns every
// difference: type and mode bits, owner, size, mtime, atime (files and
// symlinks), device numbers, symlink targets, all xattrs (ACLs included),
// contents, the data/hole map and hardlink structure. Atimes are taken
// before anything is read.
func diffTrees(a, b string) []string {
	sa, err := scanTree(a)
	if err != nil {
		return []string{fmt.Sprint("scan: ", err)}
	}
	return diffScan(sa, b)
}

// diffScan compares an earlier scan with the tree at b.
func diffScan(sa map[string]*treeState, b string) []string {
	sb, err := scanTree(b)
	if err != nil {
		return []string{fmt.Sprint("scan: ", err)}
	}
	var out []string
	links := map[uint64]uint64{}
	for _, p := range sortedKeys(sa, sb) {
		x, okx := sa[p]
		y, oky := sb[p]
		switch {
		case !okx:
			out = append(out, fmt.Sprintf("%q: only in %s", p, b))
		case !oky:
			out = append(out, fmt.Sprintf("%q: missing in %s", p, b))
		default:
			out = append(out, diffEntry(p, x, y)...)
			if x.nlink > 1 && x.mode&unix.S_IFMT == unix.S_IFREG {
				if prev, ok := links[x.ino]; ok && prev != y.ino {
					out = append(out, fmt.Sprintf("%q: hardlink structure differs", p))
				}
				links[x.ino] = y.ino
			}
		}
	}
	return out
}

func diffEntry(p string, x, y *treeState) []string {
	var out []string
	add := func(what string, u, v any) {
		out = append(out, fmt.Sprintf("%q: %s %v != %v", p, what, u, v))
	}
	if x.mode != y.mode {
		add("mode", fmt.Sprintf("%o", x.mode), fmt.Sprintf("%o", y.mode))
	}
	if x.uid != y.uid || x.gid != y.gid {
		add("owner", [2]uint32{x.uid, x.gid}, [2]uint32{y.uid, y.gid})
	}
	isDir := x.mode&unix.S_IFMT == unix.S_IFDIR
	if !isDir && x.size != y.size {
		add("size", x.size, y.size)
	}
	if x.mtime != y.mtime {
		add("mtime", x.mtime, y.mtime)
	}
	isLink := x.mode&unix.S_IFMT == unix.S_IFLNK // readlink moves it: not recorded
	if !isDir && !isLink && x.atime != y.atime {
		add("atime", x.atime, y.atime)
	}
	if x.rdev != y.rdev || x.target != y.target || x.nlink != y.nlink && !isDir {
		add("rdev/target/nlink", []any{x.rdev, x.target, x.nlink}, []any{y.rdev, y.target, y.nlink})
	}
	if x.xattrs != y.xattrs {
		add("xattrs", x.xattrs, y.xattrs)
	}
	if !bytes.Equal(x.data, y.data) {
		add("contents", len(x.data), len(y.data))
	}
	if fmt.Sprint(x.dataMap) != fmt.Sprint(y.dataMap) {
		add("data map", x.dataMap, y.dataMap)
	}
	return out
}

func sortedKeys(a, b map[string]*treeState) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	var ks []string
	for k := range seen {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// scanTree records every entry under root (root itself as ".").
func scanTree(root string) (map[string]*treeState, error) {
	out := map[string]*treeState{}
	var walk func(rel string) error
	walk = func(rel string) error {
		p := filepath.Join(root, rel)
		st, err := stateOf(p)
		if err != nil {
			return err
		}
		out[rel] = st
		if st.mode&unix.S_IFMT != unix.S_IFDIR {
			return nil
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := walk(filepath.Join(rel, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(".")
}

func stateOf(p string) (*treeState, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return nil, err
	}
	s := &treeState{mode: st.Mode, uid: st.Uid, gid: st.Gid, size: st.Size, mtime: st.Mtim,
		atime: st.Atim, rdev: st.Rdev, nlink: uint64(st.Nlink), ino: st.Ino}
	xs, err := readXattrs(p)
	if err != nil {
		return nil, err
	}
	s.xattrs = fmt.Sprintf("%q", xs)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		s.target, err = os.Readlink(p)
	case unix.S_IFREG:
		err = s.readFile(p)
	}
	return s, err
}

func (s *treeState) readFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOATIME, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for pos := int64(0); pos < s.size; {
		start, end, err := nextData(int(f.Fd()), pos, s.size)
		if err != nil || start >= end {
			break
		}
		s.dataMap = append(s.dataMap, [2]int64{start, end})
		pos = end
	}
	if s.size > 64<<20 { // big sparse file: compare its data regions only
		for _, r := range s.dataMap {
			b := make([]byte, r[1]-r[0])
			if _, err := f.ReadAt(b, r[0]); err != nil {
				return err
			}
			s.data = append(s.data, b...)
		}
		return nil
	}
	s.data, err = io.ReadAll(f)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}
