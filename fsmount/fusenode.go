package fsmount

import (
	"context"
	"errors"
	iofs "io/fs"
	"log/slog"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Kernel cache lifetimes. Point contents never change, so the kernel keeps
// entries and attributes for an hour; the catalog directories (root and
// items) change as backups run and expire, so they are kept for a second.
const (
	stableTimeout   = time.Hour
	volatileTimeout = time.Second
)

// volatile is implemented by the catalog directories.
type volatile interface{ volatile() }

// mountState is what every FUSE node of one mount shares.
type mountState struct {
	ctx  context.Context // lives until Unmount; used for work that outlives a request
	log  *slog.Logger
	inos *inoTable
}

// errno maps an error from the node model to an errno, logging causes that
// are not plain "missing" or "cancelled" once, here.
func (m *mountState) errno(op, name string, err error) syscall.Errno {
	var e syscall.Errno
	var logged loggedError
	switch {
	case errors.As(err, &logged):
		return syscall.EIO
	case errors.Is(err, iofs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	case errors.As(err, &e):
		return e
	}
	m.log.Error("fsmount: "+op+" failed", "name", name, "err", err)
	return syscall.EIO
}

// loggedError wraps an error whose cause was logged where it happened.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

// node is the part every FUSE node shares: the model node it shows and the
// id space its descendants are numbered in.
type node struct {
	fs.Inode
	readOnly
	m        *mountState
	n        Node
	space    uint64
	spaceKey string
}

var (
	_ = (fs.NodeGetattrer)((*node)(nil))
	_ = (fs.NodeGetxattrer)((*node)(nil))
	_ = (fs.NodeListxattrer)((*node)(nil))
	_ = (fs.NodeStatfser)((*node)(nil))
)

// Getattr reports the recorded attributes.
func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	fillAttr(&out.Attr, n.n.Attr())
	out.Ino = n.StableAttr().Ino
	if _, ok := n.n.(volatile); ok {
		out.SetTimeout(volatileTimeout)
	}
	return 0
}

// Statfs reports an empty, read-only file system.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	*out = fuse.StatfsOut{Bsize: 4096, Frsize: 4096, NameLen: 255}
	return 0
}

// Getxattr returns one recorded extended attribute.
func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	x, ok := n.n.(Xattrs)
	if !ok {
		return 0, syscall.ENODATA
	}
	v, err := x.Xattr(ctx, attr)
	if errors.Is(err, iofs.ErrNotExist) {
		return 0, syscall.ENODATA
	}
	if err != nil {
		return 0, n.m.errno("getxattr", attr, err)
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

// Listxattr lists the recorded extended attributes, NUL-terminated.
func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	x, ok := n.n.(Xattrs)
	if !ok {
		return 0, 0
	}
	names, err := x.ListXattrs(ctx)
	if err != nil {
		return 0, n.m.errno("listxattr", "", err)
	}
	var b []byte
	for _, s := range names {
		b = append(append(b, s...), 0)
	}
	if len(dest) < len(b) {
		return uint32(len(b)), syscall.ERANGE
	}
	return uint32(copy(dest, b)), 0
}

// fileType returns the S_IFMT bits for c, trusting the recorded mode only
// when it agrees with the node's interfaces.
func fileType(c Node, mode uint32) uint32 {
	t := mode & syscall.S_IFMT
	switch c.(type) {
	case Dir:
		return syscall.S_IFDIR
	case File:
		return syscall.S_IFREG
	case Symlink:
		return syscall.S_IFLNK
	}
	switch t {
	case syscall.S_IFIFO, syscall.S_IFCHR, syscall.S_IFBLK, syscall.S_IFSOCK:
		return t
	}
	return syscall.S_IFREG // a "file" we cannot open: opens fail with EIO
}

// newChild makes (or finds, for a hardlink) the inode of child c named name
// under parent p, and fills out with its attributes.
func (p *node) newChild(ctx context.Context, name string, c Node, out *fuse.EntryOut) *fs.Inode {
	a := c.Attr()
	t := fileType(c, a.Mode)
	a.Mode = t | a.Mode&07777
	num := ino(p.space, a.ID, p.StableAttr().Ino, name)
	space, key := p.space, p.spaceKey
	if s, ok := c.(IDSpace); ok {
		key = p.spaceKey + "\x00" + s.IDSpace()
		space = p.m.inos.space(key)
	}
	in := p.NewInode(ctx, embed(p.m, c, space, key), fs.StableAttr{Mode: t, Ino: num})
	fillAttr(&out.Attr, a)
	out.Ino = num
	if _, ok := p.n.(volatile); ok {
		out.SetEntryTimeout(volatileTimeout)
	}
	if _, ok := c.(volatile); ok {
		out.SetAttrTimeout(volatileTimeout)
	}
	return in
}

// embed picks the FUSE node type for a model node.
func embed(m *mountState, c Node, space uint64, key string) fs.InodeEmbedder {
	switch c := c.(type) {
	case Dir:
		d := &dirNode{dir: c}
		d.node.init(m, c, space, key)
		return d
	case File:
		f := &fileNode{file: c}
		f.node.init(m, c, space, key)
		return f
	case Symlink:
		l := &linkNode{link: c}
		l.node.init(m, c, space, key)
		return l
	}
	n := &node{}
	n.init(m, c, space, key)
	return n
}

func (n *node) init(m *mountState, c Node, space uint64, key string) {
	n.m, n.n, n.space, n.spaceKey = m, c, space, key
}

// fillAttr converts recorded attributes for the kernel.
func fillAttr(out *fuse.Attr, a Attr) {
	out.Mode = a.Mode
	out.Size = uint64(max(a.Size, 0))
	out.Nlink = max(a.Nlink, 1)
	out.Uid, out.Gid, out.Rdev = a.Uid, a.Gid, a.Rdev
	out.Blksize = 4096
	switch {
	case a.Blocks < 0:
		out.Blocks = 0
	case a.Blocks == 0:
		out.Blocks = (out.Size + 511) / 512
	default:
		out.Blocks = uint64(a.Blocks)
	}
	mt := orTime(a.Mtime, time.Unix(0, 0))
	at, ct := orTime(a.Atime, mt), orTime(a.Ctime, mt)
	out.SetTimes(&at, &mt, &ct)
}

// orTime is t, or def when t was not recorded. Any recorded time is shown
// as it is, before 1970 included: FUSE carries seconds as a 64-bit value
// the kernel reads as signed.
func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
