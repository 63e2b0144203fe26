package fsmount

import (
	"context"
	"errors"
	"iter"

	"github.com/rewind-backup/rewind/fileshare"
)

// The share adapter: a fileshare point's tree as nodes. Directory listings
// stream fileshare's pages; files read through fileshare.FileReader, whose
// chunks come from the mount's shared cache.

// openShare opens a share point's tree.
func openShare(ctx context.Context, r ChunkReader, p PointInfo) (Dir, error) {
	t, err := fileshare.OpenTree(ctx, r, p.Root)
	if err != nil {
		return nil, err
	}
	return shareDir{shareNode{t: t, n: t.Root()}}, nil
}

type shareNode struct {
	t *fileshare.Tree
	n *fileshare.Node
}

var (
	_ Dir     = shareDir{}
	_ File    = shareFile{}
	_ Symlink = shareLink{}
	_ Xattrs  = shareNode{}
)

// wrapShare picks the node type for a fileshare entry.
func wrapShare(t *fileshare.Tree, n *fileshare.Node) Node {
	s := shareNode{t: t, n: n}
	switch n.Type {
	case fileshare.TypeDir:
		return shareDir{s}
	case fileshare.TypeFile:
		return shareFile{s}
	case fileshare.TypeSymlink:
		return shareLink{s}
	}
	return s
}

// Attr reports what the backup recorded; hardlinks share Ino. A
// directory is numbered by its path instead: a bind mount on the share's
// file system records one source directory at two places, and the kernel
// refuses a directory inode that is also its own ancestor (ELOOP).
func (s shareNode) Attr() Attr {
	n := s.n
	id := n.Ino()
	if n.Type == fileshare.TypeDir {
		id = 0
	}
	return Attr{
		Mode: n.StatMode(), Size: n.Size, Uid: n.Uid, Gid: n.Gid, Nlink: n.Nlink,
		Rdev: uint32(n.Rdev), Atime: n.Atime, Mtime: n.Mtime, Ctime: n.Ctime, ID: id,
		Blocks: blocks(n),
	}
}

// blocks reports a sparse file's data as its allocation, so cp and tar,
// which look for holes only when st_blocks is below the size, keep them.
func blocks(n *fileshare.Node) int64 {
	b, ok := n.DataBytes()
	switch {
	case !ok || n.Type != fileshare.TypeFile:
		return 0
	case b == 0 && n.Size > 0:
		return -1
	}
	return (b + 511) / 512
}

func (s shareNode) ListXattrs(context.Context) ([]string, error) {
	names := make([]string, len(s.n.Xattrs))
	for i, x := range s.n.Xattrs {
		names[i] = x.Name
	}
	return names, nil
}

func (s shareNode) Xattr(_ context.Context, name string) ([]byte, error) {
	for _, x := range s.n.Xattrs {
		if x.Name == name {
			return x.Value, nil
		}
	}
	return nil, fileshare.ErrNotExist
}

type shareDir struct{ shareNode }

func (d shareDir) Lookup(ctx context.Context, name string) (Node, error) {
	c, err := d.t.Child(ctx, d.n, name)
	if err != nil {
		return nil, err
	}
	return wrapShare(d.t, c), nil
}

var errStop = errors.New("listing stopped")

func (d shareDir) Entries(ctx context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		err := d.t.ReadDir(ctx, d.n, "", func(c *fileshare.Node) error {
			if !validName(c.Name) {
				return nil // cannot be one path element; never shown
			}
			if !yield(Entry{Name: c.Name, Node: wrapShare(d.t, c)}, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(Entry{}, err)
		}
	}
}

type shareFile struct{ shareNode }

func (f shareFile) Open(ctx context.Context) (Reader, error) {
	r, err := f.t.Open(ctx, f.n)
	if err != nil {
		return nil, err
	}
	return shareReader{r}, nil
}

// shareReader adds the data/hole map to fileshare's reader.
type shareReader struct{ *fileshare.FileReader }

func (r shareReader) NextData(_ context.Context, off int64) (int64, error) {
	d, err := r.SeekData(off)
	if err != nil || d >= r.Size() {
		return -1, err
	}
	return d, nil
}

func (r shareReader) NextHole(_ context.Context, off int64) (int64, error) {
	return r.SeekHole(off)
}

type shareLink struct{ shareNode }

func (l shareLink) Readlink(context.Context) (string, error) { return l.n.Target, nil }
