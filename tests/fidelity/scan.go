package fidelity

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// State is what Diff compares about one entry.
type State struct {
	Mode         uint32 // st_mode, type bits included
	Uid, Gid     uint32
	Rdev         uint64
	Nlink        uint64
	Size         int64
	Mtime, Atime unix.Timespec
	Target       string            // symlink target
	Xattrs       map[string]string // every xattr, ACLs included (values as raw bytes)
	Hash         string            // SHA-256 of a regular file's contents
	DataMap      []Range           // SEEK_DATA/SEEK_HOLE regions of a regular file
	// Group is the sorted list of paths (within the tree) of the inode's
	// names, for entries with nlink > 1; "" otherwise.
	Group string

	dev, ino uint64
}

// Range is one data region [Off, End).
type Range struct{ Off, End int64 }

// Tree maps slash-separated paths relative to the root ("." for the root)
// to their state.
type Tree map[string]*State

// Scan records every entry under root without following symlinks. Atimes
// are taken before a file is read, and files are read with O_NOATIME.
func Scan(root string) (Tree, error) {
	t := Tree{}
	if err := t.walk(root, "."); err != nil {
		return nil, err
	}
	t.groupLinks()
	return t, nil
}

func (t Tree) walk(root, rel string) error {
	p := filepath.Join(root, rel)
	s, err := stateOf(p)
	if err != nil {
		return fmt.Errorf("scan %s: %w", p, err)
	}
	t[rel] = s
	if s.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return fmt.Errorf("scan %s: %w", p, err)
	}
	for _, e := range ents {
		if err := t.walk(root, filepath.ToSlash(filepath.Join(rel, e.Name()))); err != nil {
			return err
		}
	}
	return nil
}

// groupLinks names each multiply-linked inode by the paths that share it.
func (t Tree) groupLinks() {
	byIno := map[[2]uint64][]string{}
	for p, s := range t {
		if s.Nlink > 1 && s.Mode&unix.S_IFMT != unix.S_IFDIR {
			k := [2]uint64{s.dev, s.ino}
			byIno[k] = append(byIno[k], p)
		}
	}
	for _, ps := range byIno {
		sort.Strings(ps)
		g := strings.Join(ps, " ")
		for _, p := range ps {
			t[p].Group = g
		}
	}
}

func stateOf(p string) (*State, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return nil, err
	}
	s := &State{Mode: st.Mode, Uid: st.Uid, Gid: st.Gid, Rdev: st.Rdev, Nlink: uint64(st.Nlink),
		Size: st.Size, Mtime: st.Mtim, Atime: st.Atim, dev: st.Dev, ino: st.Ino}
	var err error
	if s.Xattrs, err = xattrs(p); err != nil {
		return nil, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		s.Target, err = os.Readlink(p)
	case unix.S_IFREG:
		err = s.readFile(p)
	}
	return s, err
}

func xattrs(p string) (map[string]string, error) {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list xattrs: %w", err)
	}
	out := map[string]string{}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "" {
			continue
		}
		v := make([]byte, 64<<10)
		k, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			return nil, fmt.Errorf("xattr %s: %w", name, err)
		}
		out[name] = string(v[:k])
	}
	return out, nil
}

func (s *State) readFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOATIME, 0)
	if err != nil {
		f, err = os.Open(p)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if s.DataMap, err = dataMap(int(f.Fd()), s.Size); err != nil {
		return err
	}
	// the hash is of the logical contents: holes count as zeros, hashed
	// from memory rather than read
	h := sha256.New()
	pos := int64(0)
	for _, r := range append(s.DataMap, Range{s.Size, s.Size}) {
		hashZeros(h, r.Off-pos)
		if _, err := io.Copy(h, io.NewSectionReader(f, r.Off, r.End-r.Off)); err != nil {
			return err
		}
		pos = r.End
	}
	s.Hash = hex.EncodeToString(h.Sum(nil))
	return nil
}

var zeros = make([]byte, 1<<20)

func hashZeros(w io.Writer, n int64) {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		w.Write(zeros[:k])
		n -= k
	}
}

// dataMap lists the data regions by SEEK_DATA/SEEK_HOLE, merging adjacent ones.
func dataMap(fd int, size int64) ([]Range, error) {
	var out []Range
	for pos := int64(0); pos < size; {
		start, err := unix.Seek(fd, pos, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("SEEK_DATA at %d: %w", pos, err)
		}
		end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("SEEK_HOLE at %d: %w", start, err)
		}
		if n := len(out); n > 0 && out[n-1].End == start {
			out[n-1].End = end
		} else {
			out = append(out, Range{start, end})
		}
		pos = end
	}
	return out, nil
}
