package fsmount

import (
	"context"
	"fmt"
	iofs "io/fs"
	"iter"
	"path"
	"syscall"

	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// The guest adapter: the files inside one volume of a disk point, through
// vmdisk/guest's path-based FS. Inode numbers are the guest file system's
// own, in an id space of their own (the volume's files directory).

// openGuest opens v's file system; the returned root is numbered in the
// point's static space and starts the volume's own id space.
func openGuest(ctx context.Context, v *guest.Volume, t *staticTree) (Node, error) {
	fsys, err := guest.OpenFS(ctx, v.Reader, v.Size, v.Type)
	if err != nil {
		return nil, err
	}
	e, err := fsys.Stat(".")
	if err != nil {
		return nil, fmt.Errorf("root directory: %w", err)
	}
	if !e.Mode.IsDir() {
		return nil, fmt.Errorf("root is not a directory (%v)", e.Mode)
	}
	return &guestRoot{guestDir: guestDir{guestNode{fsys: fsys, path: ".", e: e}},
		id: t.attr(0, 0).ID, space: v.FilesDir}, nil
}

type guestNode struct {
	fsys guest.FS
	path string
	e    guest.Entry
}

func (g guestNode) Attr() Attr {
	e := g.e
	return Attr{Mode: unixMode(e.Mode), Size: e.Size, Uid: e.Uid, Gid: e.Gid, Nlink: e.Nlink,
		Mtime: e.ModTime, ID: e.Ino}
}

func wrapGuest(fsys guest.FS, dir string, e guest.Entry) Node {
	g := guestNode{fsys: fsys, path: path.Join(dir, e.Name), e: e}
	switch {
	case e.Mode.IsDir():
		return guestDir{g}
	case e.Mode&iofs.ModeSymlink != 0:
		return guestLink{g}
	case e.Mode.IsRegular():
		return guestFile{g}
	}
	return g
}

type guestDir struct{ guestNode }

func (d guestDir) Lookup(_ context.Context, name string) (Node, error) {
	e, err := d.fsys.Stat(path.Join(d.path, name))
	if err != nil {
		return nil, err
	}
	e.Name = name
	return wrapGuest(d.fsys, d.path, e), nil
}

func (d guestDir) Entries(context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		es, err := d.fsys.ReadDir(d.path)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		for _, e := range es {
			if validName(e.Name) && !yield(Entry{Name: e.Name, Node: wrapGuest(d.fsys, d.path, e)}, nil) {
				return
			}
		}
	}
}

// guestRoot is a volume's top directory: numbered in the point, it starts
// the volume's id space.
type guestRoot struct {
	guestDir
	id    uint64
	space string
}

func (r *guestRoot) Attr() Attr {
	a := r.guestDir.Attr()
	a.ID = r.id
	return a
}

func (r *guestRoot) IDSpace() string { return r.space }

type guestFile struct{ guestNode }

func (f guestFile) Open(context.Context) (Reader, error) { return f.fsys.Open(f.path) }

type guestLink struct{ guestNode }

func (l guestLink) Readlink(context.Context) (string, error) {
	if l.e.Target != "" {
		return l.e.Target, nil
	}
	return l.fsys.Readlink(l.path)
}

// unixMode converts an io/fs mode to st_mode bits.
func unixMode(m iofs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&iofs.ModeSetuid != 0 {
		u |= syscall.S_ISUID
	}
	if m&iofs.ModeSetgid != 0 {
		u |= syscall.S_ISGID
	}
	if m&iofs.ModeSticky != 0 {
		u |= syscall.S_ISVTX
	}
	switch {
	case m.IsDir():
		return u | syscall.S_IFDIR
	case m&iofs.ModeSymlink != 0:
		return u | syscall.S_IFLNK
	case m&iofs.ModeNamedPipe != 0:
		return u | syscall.S_IFIFO
	case m&iofs.ModeSocket != 0:
		return u | syscall.S_IFSOCK
	case m&iofs.ModeCharDevice != 0:
		return u | syscall.S_IFCHR
	case m&iofs.ModeDevice != 0:
		return u | syscall.S_IFBLK
	}
	return u | syscall.S_IFREG
}
