package fsmount

import (
	"context"
	"errors"
	iofs "io/fs"
	"iter"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirNode serves a Dir.
type dirNode struct {
	node
	dir Dir
}

var (
	_ = (fs.NodeLookuper)((*dirNode)(nil))
	_ = (fs.NodeOpendirHandler)((*dirNode)(nil))
)

// Lookup finds a child by name.
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	c, err := d.dir.Lookup(ctx, name)
	if err != nil {
		if _, ok := d.n.(volatile); ok && errors.Is(err, iofs.ErrNotExist) {
			out.SetEntryTimeout(volatileTimeout)
		}
		return nil, d.m.errno("lookup", name, err)
	}
	return d.newChild(ctx, name, c, out), 0
}

// OpendirHandle starts a listing. Point directories never change, so the
// kernel may cache their listings.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	var fl uint32
	if _, ok := d.n.(volatile); !ok {
		fl = fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE
	}
	return &dirHandle{d: d}, fl, 0
}

// dirHandle streams a directory's entries page by page (the Dir pages
// underneath). go-fuse serialises calls on one handle.
type dirHandle struct {
	d    *dirNode
	next func() (Entry, error, bool)
	stop func()
	pos  uint64 // entries handed out so far
	last Entry  // the latest entry, for READDIRPLUS's lookup
}

var (
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
	_ = (fs.FileLookuper)((*dirHandle)(nil))
	_ = (fs.FileReleasedirer)((*dirHandle)(nil))
)

func (h *dirHandle) restart() {
	h.Releasedir(context.TODO(), 0)
	h.next, h.stop = iter.Pull2(h.d.dir.Entries(h.d.m.ctx))
	h.pos = 0
}

// Readdirent returns the next entry, or nil at the end: "." and ".." first,
// then the Dir's entries.
func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if h.next == nil {
		h.restart()
	}
	if h.pos < 2 {
		return h.dot(), 0
	}
	e, err, ok := h.next()
	if !ok {
		return nil, 0
	}
	if err != nil {
		return nil, h.d.m.errno("readdir", "", err)
	}
	h.pos++
	h.last = e
	a := e.Node.Attr()
	return &fuse.DirEntry{
		Name: e.Name,
		Mode: fileType(e.Node, a.Mode),
		Ino:  ino(h.d.space, a.ID, h.d.StableAttr().Ino, e.Name),
		Off:  h.pos,
	}, 0
}

// dot returns "." or "..".
func (h *dirHandle) dot() *fuse.DirEntry {
	h.pos++
	h.last = Entry{}
	de := &fuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR, Ino: h.d.StableAttr().Ino, Off: h.pos}
	if h.pos == 2 {
		de.Name = ".."
		if _, p := h.d.Parent(); p != nil {
			de.Ino = p.StableAttr().Ino
		}
	}
	return de
}

// Seekdir moves to the entry after the off'th (offsets are entry counts).
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if h.next == nil || off < h.pos {
		h.restart()
	}
	for h.pos < off {
		if de, errno := h.Readdirent(ctx); errno != 0 || de == nil {
			return errno
		}
	}
	return 0
}

// Lookup serves READDIRPLUS with the node just listed, without asking the
// Dir again.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if h.last.Node != nil && h.last.Name == name {
		return h.d.newChild(ctx, name, h.last.Node, out), 0
	}
	return h.d.Lookup(ctx, name, out)
}

// Releasedir stops the listing.
func (h *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	if h.stop != nil {
		h.stop()
		h.next, h.stop = nil, nil
	}
}

// linkNode serves a Symlink.
type linkNode struct {
	node
	link Symlink
}

var _ = (fs.NodeReadlinker)((*linkNode)(nil))

// Readlink returns the recorded target.
func (l *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	s, err := l.link.Readlink(ctx)
	if err != nil {
		return nil, l.m.errno("readlink", "", err)
	}
	return []byte(s), 0
}
