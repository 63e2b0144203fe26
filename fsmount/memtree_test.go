package fsmount

import (
	"bytes"
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

// An in-memory implementation of the node model: the FUSE layer's own test
// fixture. loadTree fills it from a real directory, so a mount of it can be
// compared with the original.

type memDir struct {
	attr     Attr
	names    []string
	children map[string]Node
	xattrs   map[string][]byte
}

func newMemDir(a Attr) *memDir { return &memDir{attr: a, children: map[string]Node{}} }

func (d *memDir) Attr() Attr { return d.attr }

func (d *memDir) add(name string, n Node) {
	if _, ok := d.children[name]; !ok {
		d.names = append(d.names, name)
		sort.Strings(d.names)
	}
	d.children[name] = n
}

func (d *memDir) Lookup(ctx context.Context, name string) (Node, error) {
	if n, ok := d.children[name]; ok {
		return n, nil
	}
	return nil, iofs.ErrNotExist
}

func (d *memDir) Entries(ctx context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for _, n := range d.names {
			if !yield(Entry{Name: n, Node: d.children[n]}, nil) {
				return
			}
		}
	}
}

func (d *memDir) ListXattrs(context.Context) ([]string, error) { return sortedKeys(d.xattrs), nil }
func (d *memDir) Xattr(_ context.Context, n string) ([]byte, error) {
	return lookupXattr(d.xattrs, n)
}

type memFile struct {
	attr   Attr
	data   []byte
	extent [][2]int64 // data ranges [start, end); nil: all data
	xattrs map[string][]byte
}

func (f *memFile) Attr() Attr { return f.attr }
func (f *memFile) Open(context.Context) (Reader, error) {
	if f.extent == nil {
		return bytes.NewReader(f.data), nil
	}
	return &sparseReader{Reader: bytes.NewReader(f.data), extent: f.extent, size: int64(len(f.data))}, nil
}
func (f *memFile) ListXattrs(context.Context) ([]string, error) { return sortedKeys(f.xattrs), nil }
func (f *memFile) Xattr(_ context.Context, n string) ([]byte, error) {
	return lookupXattr(f.xattrs, n)
}

type sparseReader struct {
	*bytes.Reader
	extent [][2]int64
	size   int64
}

func (r *sparseReader) NextData(_ context.Context, off int64) (int64, error) {
	for _, e := range r.extent {
		if off < e[1] {
			return max(off, e[0]), nil
		}
	}
	return -1, nil
}

func (r *sparseReader) NextHole(_ context.Context, off int64) (int64, error) {
	for _, e := range r.extent {
		if off < e[0] {
			return off, nil
		}
		if off < e[1] {
			return e[1], nil
		}
	}
	return max(off, r.size), nil
}

type memLink struct {
	attr   Attr
	target string
}

func (l *memLink) Attr() Attr                               { return l.attr }
func (l *memLink) Readlink(context.Context) (string, error) { return l.target, nil }

func sortedKeys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func lookupXattr(m map[string][]byte, n string) ([]byte, error) {
	if v, ok := m[n]; ok {
		return v, nil
	}
	return nil, iofs.ErrNotExist
}

// loadTree reads a real directory into memory: attributes, content, holes,
// symlinks, hardlinks (shared nodes with one id), xattrs.
func loadTree(t testing.TB, root string) *memDir {
	t.Helper()
	l := &loader{t: t, byIno: map[uint64]Node{}}
	return l.dir(root)
}

type loader struct {
	t     testing.TB
	byIno map[uint64]Node
}

func (l *loader) attr(p string) (Attr, *unix.Stat_t) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		l.t.Fatal(err)
	}
	return Attr{
		Mode: st.Mode, Size: st.Size, Uid: st.Uid, Gid: st.Gid, Nlink: uint32(st.Nlink),
		Rdev: uint32(st.Rdev), Blocks: st.Blocks, ID: st.Ino,
		Atime: time.Unix(st.Atim.Unix()), Mtime: time.Unix(st.Mtim.Unix()), Ctime: time.Unix(st.Ctim.Unix()),
	}, &st
}

func (l *loader) dir(p string) *memDir {
	a, _ := l.attr(p)
	d := newMemDir(a)
	d.xattrs = readXattrs(l.t, p)
	ents, err := os.ReadDir(p)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, e := range ents {
		d.add(e.Name(), l.node(filepath.Join(p, e.Name())))
	}
	return d
}

func (l *loader) node(p string) Node {
	a, st := l.attr(p)
	if n, ok := l.byIno[st.Ino]; ok && st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return n
	}
	var n Node
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return l.dir(p)
	case syscall.S_IFLNK:
		target, err := os.Readlink(p)
		if err != nil {
			l.t.Fatal(err)
		}
		n = &memLink{attr: a, target: target}
	case syscall.S_IFREG:
		data, err := os.ReadFile(p)
		if err != nil {
			l.t.Fatal(err)
		}
		n = &memFile{attr: a, data: data, extent: dataExtents(l.t, p, int64(len(data))), xattrs: readXattrs(l.t, p)}
	default:
		n = attrOnly{a} // fifo, device: attributes only
	}
	l.byIno[st.Ino] = n
	return n
}

type attrOnly struct{ a Attr }

func (a attrOnly) Attr() Attr { return a.a }

// dataExtents returns the data ranges of a sparse file, nil for a dense one.
func dataExtents(t testing.TB, p string, size int64) [][2]int64 {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ext [][2]int64
	for off := int64(0); off < size; {
		d, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		h, err := unix.Seek(int(f.Fd()), d, unix.SEEK_HOLE)
		if err != nil {
			t.Fatal(err)
		}
		ext = append(ext, [2]int64{d, h})
		off = h
	}
	if len(ext) == 1 && ext[0] == [2]int64{0, size} {
		return nil
	}
	if ext == nil {
		ext = [][2]int64{}
	}
	return ext
}

func readXattrs(t testing.TB, p string) map[string][]byte {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "" {
			continue
		}
		v := make([]byte, 64<<10)
		vn, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = v[:vn]
	}
	return m
}

// memCatalog is a Catalog over a fixed list.
type memCatalog struct {
	mu     sync.Mutex
	items  []ItemInfo
	points map[string][]PointInfo
	err    error
}

func (c *memCatalog) Items(context.Context) ([]ItemInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.items), c.err
}

func (c *memCatalog) Points(_ context.Context, item string) ([]PointInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.points[item]), c.err
}

func (c *memCatalog) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
}

// fixture serves in-memory trees by root id.
type fixture struct {
	mu    sync.Mutex
	cat   *memCatalog
	trees map[blockstore.ID]Dir
}

func newFixture() *fixture {
	return &fixture{cat: &memCatalog{points: map[string][]PointInfo{}}, trees: map[blockstore.ID]Dir{}}
}

// add registers tree as a share point of item at t.
func (f *fixture) add(item string, at time.Time, tree Dir) PointInfo {
	f.cat.mu.Lock()
	defer f.cat.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	var id blockstore.ID
	copy(id[:], item+at.String())
	if _, ok := f.cat.points[item]; !ok {
		f.cat.items = append(f.cat.items, ItemInfo{Name: item})
	}
	p := PointInfo{Time: at, Kind: KindShare, Root: id}
	f.cat.points[item] = append(f.cat.points[item], p)
	f.trees[id] = tree
	return p
}

func (f *fixture) open(_ context.Context, _ string, p PointInfo) (Dir, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.trees[p.Root]; ok && d != nil {
		return d, nil
	}
	return nil, errors.New("tree is corrupt (test)")
}

// mountT mounts with cleanup that never leaves a stale mount behind.
func mountT(t testing.TB, cat Catalog, open opener, opts Options) (*Mounted, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := mount(context.Background(), dir, cat, open, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
	})
	if err := waitMounted(dir, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	testMountsMu.Lock()
	testMounts[dir] = m
	testMountsMu.Unlock()
	return m, dir
}

var (
	testMountsMu sync.Mutex
	testMounts   = map[string]*Mounted{}
)

var _ io.ReaderAt = (*bytes.Reader)(nil)
