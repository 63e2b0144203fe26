package fsmount

import (
	"context"
	"fmt"
	iofs "io/fs"
	"iter"
	"log/slog"
	"path"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// The guest adapter: the files inside one volume of a disk point, through
// vmdisk/guest's path-based FS. Inode numbers are the guest file system's
// own, in an id space of their own (the volume's files directory).

// openGuest opens v's file system; the returned root is numbered in the
// point's static space and starts the volume's own id space.
func openGuest(ctx context.Context, v *guest.Volume, t *staticTree, log *slog.Logger) (Node, error) {
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
	v0 := &guestVol{fsys: fsys, log: log.With("volume", v.Name)}
	return &guestRoot{guestDir: guestDir{guestNode{v: v0, path: ".", e: e}},
		id: t.attr(0, 0).ID, space: v.FilesDir}, nil
}

// guestVol is what every node of one volume shares.
type guestVol struct {
	fsys   guest.FS
	log    *slog.Logger
	warned sync.Map // directory path → true once its escaped names were logged
}

type guestNode struct {
	v    *guestVol
	path string
	e    guest.Entry
}

var (
	_ Dir        = guestDir{}
	_ File       = guestFile{}
	_ Symlink    = guestLink{}
	_ Xattrs     = guestNode{}
	_ HoleFinder = guestReader{}
)

// Attr reports the guest's own metadata: times of any year (before 1970
// included), device numbers, link counts and the allocated size.
func (g guestNode) Attr() Attr {
	e := g.e
	a := Attr{Mode: unixMode(e.Mode), Size: e.Size, Uid: e.Uid, Gid: e.Gid, Nlink: e.Nlink,
		Rdev: fuseDev(e.Rdev), Atime: e.Atime, Mtime: e.ModTime, Ctime: e.Ctime, ID: e.Ino}
	switch {
	case e.Blocks == 0 && e.Size > 0:
		a.Blocks = BlocksNone // all hole
	case e.Blocks > 0:
		a.Blocks = e.Blocks
	}
	return a
}

// fuseDev converts a Linux dev_t to the 32-bit form FUSE carries (the
// kernel's new_encode_dev).
func fuseDev(dev uint64) uint32 {
	major, minor := unix.Major(dev), unix.Minor(dev)
	return minor&0xff | major<<8 | (minor&^0xff)<<12
}

func (g guestNode) ListXattrs(context.Context) ([]string, error) {
	xs, err := g.v.fsys.Xattrs(g.path)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(xs))
	for i, x := range xs {
		names[i] = x.Name
	}
	return names, nil
}

func (g guestNode) Xattr(_ context.Context, name string) ([]byte, error) {
	xs, err := g.v.fsys.Xattrs(g.path)
	if err != nil {
		return nil, err
	}
	for _, x := range xs {
		if x.Name == name {
			return x.Value, nil
		}
	}
	return nil, iofs.ErrNotExist
}

func wrapGuest(v *guestVol, dir string, e guest.Entry) Node {
	g := guestNode{v: v, path: path.Join(dir, e.Name), e: e}
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
	e, err := d.v.fsys.Stat(path.Join(d.path, name))
	if err != nil {
		return nil, err
	}
	e.Name = name
	return wrapGuest(d.v, d.path, e), nil
}

func (d guestDir) Entries(context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		es, err := d.v.fsys.ReadDir(d.path)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		d.warnEscaped(es)
		for _, e := range es {
			if validName(e.Name) && !yield(Entry{Name: e.Name, Node: wrapGuest(d.v, d.path, e)}, nil) {
				return
			}
		}
	}
}

// warnEscaped logs, once per directory, the entries shown under an escaped
// name (see guest.EscapeName).
func (d guestDir) warnEscaped(es []guest.Entry) {
	for _, e := range es {
		if e.RawName == "" {
			continue
		}
		if _, done := d.v.warned.LoadOrStore(d.path+"\x00"+e.Name, true); !done {
			d.v.log.Warn("fsmount: guest directory entry has a name that cannot be shown as stored; shown escaped",
				"dir", d.path, "stored", e.RawName, "shown", e.Name)
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

func (f guestFile) Open(context.Context) (Reader, error) {
	r, err := f.v.fsys.Open(f.path)
	if err != nil {
		return nil, err
	}
	return guestReader{r}, nil
}

// guestReader adds SEEK_DATA/SEEK_HOLE from the guest's block map.
type guestReader struct{ guest.File }

func (r guestReader) NextData(_ context.Context, off int64) (int64, error) {
	for _, d := range r.Data() {
		if off < d.Off+d.Len {
			return max(off, d.Off), nil
		}
	}
	return -1, nil
}

func (r guestReader) NextHole(_ context.Context, off int64) (int64, error) {
	for _, d := range r.Data() {
		if off < d.Off {
			return off, nil
		}
		if off < d.Off+d.Len {
			off = d.Off + d.Len
		}
	}
	return max(off, 0), nil
}

type guestLink struct{ guestNode }

func (l guestLink) Readlink(context.Context) (string, error) {
	if l.e.Target != "" {
		return l.e.Target, nil
	}
	return l.v.fsys.Readlink(l.path)
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
