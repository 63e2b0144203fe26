package fileshare

import (
	"context"
	"strconv"
)

// treeSource presents a share point's Tree as a RestoreSource. Entry.Ref is
// the *Node.
type treeSource struct {
	t *Tree
}

var _ RestoreSource = treeSource{}

// Source returns the point as a RestoreSource (what Restore hands to RestoreFrom).
func (t *Tree) Source() RestoreSource { return treeSource{t: t} }

func (s treeSource) Root(context.Context) (*Entry, error) { return entryOf(s.t.root), nil }

func (s treeSource) ReadDir(ctx context.Context, dir *Entry, fn func(*Entry) error) error {
	n, ok := dir.Ref.(*Node)
	if !ok || n.Type != TypeDir {
		return ErrNotDir
	}
	c, err := openCursor(ctx, s.t.r, n.subtree)
	if err != nil {
		return err
	}
	for e := c.entry(); e != nil; e = c.entry() {
		c.i++
		if err := fn(entryOf(e)); err != nil {
			return err
		}
	}
	return c.err
}

func (s treeSource) Open(ctx context.Context, e *Entry) (Content, error) {
	n, _ := e.Ref.(*Node)
	if n == nil {
		return nil, ErrNotExist
	}
	f, err := openFile(ctx, s.t.r, n)
	if err != nil {
		return nil, err
	}
	return &treeContent{f: f}, nil
}

// entryOf maps a recorded node to an Entry. Hard links are grouped by the
// source's device and inode numbers, recorded for every entry type since
// the first format version, so a FIFO, device or symlink linked in the
// source comes back linked even from a point whose LinkPath covers only
// regular files.
func entryOf(n *Node) *Entry {
	e := &Entry{Name: n.Name, Type: n.Type, Mode: n.Mode, Uid: n.Uid, Gid: n.Gid, Size: n.Size,
		Mtime: n.Mtime, Atime: n.Atime, Ctime: n.Ctime, Nlink: n.Nlink, Rdev: n.Rdev,
		Target: n.Target, Xattrs: n.Xattrs, Ref: n}
	if n.Type != TypeDir && n.Nlink > 1 && n.ino != 0 {
		e.LinkKey = strconv.FormatUint(n.dev, 16) + ":" + strconv.FormatUint(n.ino, 16)
	}
	return e
}

// treeContent is a stored file's contents; it also verifies a restored copy
// by chunk id without fetching the chunks again.
type treeContent struct {
	f *FileReader
}

func (c *treeContent) Close() error { return nil }

func (c *treeContent) Data(ctx context.Context, fn func(off int64, data []byte) error) error {
	n := c.f.n
	if n.inline != nil {
		if len(n.inline) == 0 {
			return nil
		}
		return fn(0, n.inline)
	}
	var stop error
	err := c.f.Extents(func(x Extent) error {
		data, err := c.f.chunk(ctx, &x)
		if err != nil {
			return err
		}
		if err := fn(x.Off, data); err != nil {
			stop = err
			return err
		}
		return nil
	})
	if stop != nil {
		return stop
	}
	return err
}
