package fsmount

import (
	"context"
	"iter"
	"time"
)

// The node model: what fsmount needs from a recovery point's content. The
// share and disk adapters (share.go, disk.go) implement it over fileshare and
// vmdisk; the FUSE layer (fuse*.go) only ever sees these interfaces.

// Attr is a node's recorded metadata.
type Attr struct {
	Mode  uint32 // unix st_mode: file type bits (S_IFREG, …) and permission bits
	Size  int64
	Uid   uint32
	Gid   uint32
	Nlink uint32 // 0 is shown as 1
	Rdev  uint32
	// Blocks is the allocated size in 512-byte units; 0 means ceil(Size/512)
	// and BlocksNone means nothing is allocated (a file that is all hole).
	Blocks int64
	Atime  time.Time
	Mtime  time.Time
	Ctime  time.Time
	// ID identifies the node within its tree (see IDSpace): stable, and shared
	// by hardlinks. 0 means "no id": the mount derives one from the path.
	ID uint64
}

// BlocksNone is Attr.Blocks for a file with no allocated blocks.
const BlocksNone = -1

// Node is one entry of a recovery point's tree.
type Node interface {
	Attr() Attr
}

// Entry is a named child of a Dir.
type Entry struct {
	Name string
	Node Node
}

// Dir is a directory node.
type Dir interface {
	Node
	// Lookup finds a direct child; a missing one gives an error matching
	// fs.ErrNotExist.
	Lookup(ctx context.Context, name string) (Node, error)
	// Entries lists the children in a stable order, without "." and "..".
	// Huge directories are paged by the implementation, never held whole.
	Entries(ctx context.Context) iter.Seq2[Entry, error]
}

// File is a regular file node.
type File interface {
	Node
	Open(ctx context.Context) (Reader, error)
}

// Reader reads an open file. ReadAt is called concurrently, without locks.
// The handle owns it: if it implements io.Closer it is closed on release.
type Reader interface {
	ReadAt(p []byte, off int64) (int, error)
}

// HoleFinder is implemented by readers that know their sparse layout
// (SEEK_DATA/SEEK_HOLE). Offsets are absolute; size is the file size.
type HoleFinder interface {
	// NextData returns the first data offset >= off, or -1 when only a hole
	// remains up to the end of the file.
	NextData(ctx context.Context, off int64) (int64, error)
	// NextHole returns the first hole offset >= off; the end of the file
	// counts as a hole.
	NextHole(ctx context.Context, off int64) (int64, error)
}

// Symlink is a symbolic link node.
type Symlink interface {
	Node
	Readlink(ctx context.Context) (string, error)
}

// Xattrs is implemented by nodes that carry extended attributes.
type Xattrs interface {
	// ListXattrs returns the attribute names in a stable order.
	ListXattrs(ctx context.Context) ([]string, error)
	// Xattr returns one attribute's value, or an error matching
	// fs.ErrNotExist.
	Xattr(ctx context.Context, name string) ([]byte, error)
}

// IDSpace is implemented by directories whose descendants number their IDs
// independently of the rest of the point (a guest file system inside a disk
// point). The key names the space within the point ("files/1").
type IDSpace interface {
	IDSpace() string
}
