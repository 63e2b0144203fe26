package guest

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// backend is what each file-system reader implements; tree turns it into a
// path-based FS with a small directory cache.
type backend interface {
	root() (Entry, error)
	// readDir lists dir (without "." and ".."), entries fully filled.
	readDir(dir *Entry) ([]Entry, error)
	readLink(e *Entry) (string, error)
	open(e *Entry) (File, error)
	// xattrs lists e's extended attributes (any order; nil when none).
	xattrs(e *Entry) ([]Xattr, error)
}

// Directory cache bounds: listings of at most dirCacheSize directories and
// dirCacheEntries entries in total; bigger listings are not cached.
const (
	dirCacheSize    = 512
	dirCacheEntries = 1 << 18
)

type tree struct {
	typ       string
	b         backend
	rootEntry Entry

	mu      sync.Mutex
	cache   map[uint64][]Entry
	order   []uint64 // FIFO eviction
	entries int      // total cached entries
}

func newTree(typ string, b backend) (*tree, error) {
	root, err := b.root()
	if err != nil {
		return nil, err
	}
	if !root.Mode.IsDir() {
		return nil, corruptf("root is not a directory")
	}
	root.Name = "."
	return &tree{typ: typ, b: b, rootEntry: root, cache: map[uint64][]Entry{}}, nil
}

func (t *tree) Type() string { return t.typ }

func (t *tree) list(dir *Entry) (ents []Entry, err error) {
	t.mu.Lock()
	ents, ok := t.cache[dir.Ino]
	t.mu.Unlock()
	if ok {
		return ents, nil
	}
	defer recoverInto(&err, "read directory")
	ents, err = t.b.readDir(dir)
	if err != nil {
		return nil, err
	}
	ents = escapeNames(ents)
	t.mu.Lock()
	if _, ok := t.cache[dir.Ino]; !ok && len(ents) <= dirCacheEntries/4 {
		t.cache[dir.Ino] = ents
		t.order = append(t.order, dir.Ino)
		t.entries += len(ents)
		for len(t.order) > dirCacheSize || t.entries > dirCacheEntries {
			t.entries -= len(t.cache[t.order[0]])
			delete(t.cache, t.order[0])
			t.order = t.order[1:]
		}
	}
	t.mu.Unlock()
	return ents, nil
}

func cleanName(op, name string) (string, error) {
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		name = "."
	}
	if !validPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return name, nil
}

// validPath is fs.ValidPath without its UTF-8 rule: guest names are bytes
// (a Latin-1 guest has names that are not UTF-8), so any element other
// than "", "." and ".." without '/' or NUL is allowed.
func validPath(name string) bool {
	if name == "." {
		return true
	}
	for _, elem := range strings.Split(name, "/") {
		if !validElem(elem) {
			return false
		}
	}
	return true
}

// lookup resolves name to an entry without following any symlink; a symlink
// in the middle of the path gives ErrNotExist-like ENOTDIR semantics.
func (t *tree) lookup(op, name string) (Entry, error) {
	name, err := cleanName(op, name)
	if err != nil {
		return Entry{}, err
	}
	cur := t.rootEntry
	if name == "." {
		return cur, nil
	}
	parts := strings.Split(name, "/")
	if len(parts) > maxDepth {
		return Entry{}, &fs.PathError{Op: op, Path: name, Err: errLoop}
	}
	onPath := map[uint64]bool{dirKey(&cur): true}
	for _, part := range parts {
		if !cur.Mode.IsDir() {
			return Entry{}, &fs.PathError{Op: op, Path: name, Err: errNotDir}
		}
		ents, err := t.list(&cur)
		if err != nil {
			return Entry{}, &fs.PathError{Op: op, Path: name, Err: err}
		}
		j := sort.Search(len(ents), func(j int) bool { return ents[j].Name >= part })
		if j == len(ents) || ents[j].Name != part {
			return Entry{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		cur = ents[j]
		if cur.Mode.IsDir() {
			// a corrupt directory that contains one of its ancestors
			// would make every recursive walk endless
			if onPath[dirKey(&cur)] {
				return Entry{}, &fs.PathError{Op: op, Path: name, Err: errLoop}
			}
			onPath[dirKey(&cur)] = true
		}
	}
	return cur, nil
}

// maxDepth bounds path length in components.
const maxDepth = 1024

var errLoop = fmt.Errorf("%w: directory loop (a directory contains its own ancestor) or path too deep", ErrCorrupt)

// dirKey identifies a directory: its inode, or for FAT its first cluster.
func dirKey(e *Entry) uint64 {
	if e.ref != 0 {
		return e.ref | 1<<63
	}
	return e.Ino
}

var errNotDir = errors.New("not a directory")

func (t *tree) Stat(name string) (Entry, error) { return t.lookup("stat", name) }

func (t *tree) ReadDir(name string) ([]Entry, error) {
	e, err := t.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !e.Mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	ents, err := t.list(&e)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return append([]Entry(nil), ents...), nil
}

func (t *tree) Open(name string) (f File, err error) {
	e, err := t.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if !e.Mode.IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	defer recoverInto(&err, "open "+name)
	f, err = t.b.open(&e)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f, nil
}

func (t *tree) Readlink(name string) (s string, err error) {
	e, err := t.lookup("readlink", name)
	if err != nil {
		return "", err
	}
	if e.Mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	if e.Target != "" {
		return e.Target, nil
	}
	defer recoverInto(&err, "readlink "+name)
	s, err = t.b.readLink(&e)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return s, nil
}

func (t *tree) Xattrs(name string) (xs []Xattr, err error) {
	e, err := t.lookup("getxattr", name)
	if err != nil {
		return nil, err
	}
	defer recoverInto(&err, "xattrs of "+name)
	xs, err = t.b.xattrs(&e)
	if err != nil {
		return nil, &fs.PathError{Op: "getxattr", Path: name, Err: err}
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i].Name < xs[j].Name })
	return xs, nil
}
