package fsmount

import (
	"context"
	"io"
	iofs "io/fs"
	"iter"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Static nodes: the fixed part of a disk point (its directories, images and
// README.txt files), built once when the point is opened.

type staticDir struct {
	attr  Attr
	names []string
	kids  map[string]Node
}

func (d *staticDir) Attr() Attr { return d.attr }

func (d *staticDir) Lookup(_ context.Context, name string) (Node, error) {
	if n, ok := d.kids[name]; ok {
		return n, nil
	}
	return nil, iofs.ErrNotExist
}

func (d *staticDir) Entries(context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for _, n := range d.names {
			if !yield(Entry{Name: n, Node: d.kids[n]}, nil) {
				return
			}
		}
	}
}

// readerFile is a read-only file over an io.ReaderAt (a disk or volume image).
type readerFile struct {
	attr Attr
	r    io.ReaderAt
}

func (f *readerFile) Attr() Attr                           { return f.attr }
func (f *readerFile) Open(context.Context) (Reader, error) { return sharedReader{f.r}, nil }

// sharedReader hides Close: the image outlives every handle on it.
type sharedReader struct{ r io.ReaderAt }

func (s sharedReader) ReadAt(p []byte, off int64) (int, error) { return s.r.ReadAt(p, off) }

// staticTree numbers and places static nodes under one root.
type staticTree struct {
	root   *staticDir
	nextID uint64
	mtime  time.Time
}

func newStaticTree(mtime time.Time) *staticTree {
	t := &staticTree{mtime: mtime}
	t.root = &staticDir{attr: t.attr(syscall.S_IFDIR|0o555, 0), kids: map[string]Node{}}
	t.root.attr.Nlink = 2
	return t
}

func (t *staticTree) attr(mode uint32, size int64) Attr {
	t.nextID++
	return Attr{Mode: mode, Size: size, Nlink: 1, Mtime: t.mtime, ID: t.nextID}
}

// dir returns the directory at slash path p, creating it and its parents.
func (t *staticTree) dir(p string) *staticDir {
	d := t.root
	for _, name := range strings.Split(path.Clean(p), "/") {
		if name == "." || name == "" {
			continue
		}
		sub, ok := d.kids[name].(*staticDir)
		if !ok {
			sub = &staticDir{attr: t.attr(syscall.S_IFDIR|0o555, 0), kids: map[string]Node{}}
			sub.attr.Nlink = 2
			d.put(name, sub)
		}
		d = sub
	}
	return d
}

// put adds or replaces a child, keeping names sorted.
func (d *staticDir) put(name string, n Node) {
	if _, ok := d.kids[name]; !ok {
		i := sort.SearchStrings(d.names, name)
		d.names = append(d.names, "")
		copy(d.names[i+1:], d.names[i:])
		d.names[i] = name
	}
	d.kids[name] = n
}

// file places n at slash path p.
func (t *staticTree) file(p string, n Node) {
	t.dir(path.Dir(p)).put(path.Base(p), n)
}
