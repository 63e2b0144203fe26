package fileshare

import (
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// Type is the kind of a tree entry.
type Type uint8

// Entry types as recorded in directory objects (the byte values are part of
// the format, FORMAT.md).
const (
	TypeFile    Type = 1
	TypeDir     Type = 2
	TypeSymlink Type = 3
	TypeFifo    Type = 4
	TypeChar    Type = 5
	TypeBlock   Type = 6
	TypeSocket  Type = 7 // format version 2 on
)

func (t Type) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "directory"
	case TypeSymlink:
		return "symlink"
	case TypeFifo:
		return "fifo"
	case TypeChar:
		return "char device"
	case TypeBlock:
		return "block device"
	case TypeSocket:
		return "socket"
	}
	return "unknown"
}

// Xattr is one extended attribute (POSIX ACLs travel as system.posix_acl_*).
type Xattr struct {
	Name  string
	Value []byte
}

// Extent is one stored piece of a file: Len bytes at file offset Off are the
// plaintext of chunk ID. Gaps between extents are holes (read as zeros).
type Extent struct {
	Off int64
	Len int64
	ID  blockstore.ID
}

// Node is one entry of a recovery point's tree, as decoded from its directory
// object. Name may hold any bytes a Linux file name can (not valid UTF-8).
type Node struct {
	Name        string
	Type        Type
	Mode        uint32 // permission bits incl. setuid/setgid/sticky (07777)
	Uid, Gid    uint32
	User, Group string // names at backup time ("" when unknown)
	Size        int64
	Mtime       time.Time
	Ctime       time.Time // as recorded; restore cannot set it
	Atime       time.Time // as recorded (read with O_NOATIME, so backups do not move it)
	Nlink       uint32
	Rdev        uint64 // char/block devices
	Target      string // symlink target, verbatim
	// LinkPath is set on every occurrence of a hardlinked file but the first
	// (in sorted walk order): the slash-separated path, from the tree root, of
	// the first occurrence. Restore links to it; the data refs are repeated.
	LinkPath string
	Xattrs   []Xattr

	dev, ino uint64 // source identity, for incremental change detection
	clamped  bool   // a time was beyond the format's range (see statTime)
	inline   []byte // contents of a small file
	extents  []Extent
	lists    []listRef // extent lists of a large file
	subtree  blockstore.ID
}

// listRef points at an extent-list object holding Count extents starting at
// file offset First.
type listRef struct {
	First int64
	Count uint32
	ID    blockstore.ID
}

// Ino is a stable inode-like id: equal for every name of one hardlinked
// file, derived from the source's device and inode numbers.
func (n *Node) Ino() uint64 {
	x := n.dev*0x9e3779b97f4a7c15 ^ n.ino
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	if x == 0 || x == 1 {
		x += 2 // 1 is conventionally the root
	}
	return x
}

// StatMode is Mode with the S_IFMT type bits, as stat(2) reports it.
func (n *Node) StatMode() uint32 {
	var t uint32
	switch n.Type {
	case TypeFile:
		t = 0o100000
	case TypeDir:
		t = 0o040000
	case TypeSymlink:
		t = 0o120000
	case TypeFifo:
		t = 0o010000
	case TypeChar:
		t = 0o020000
	case TypeBlock:
		t = 0o060000
	case TypeSocket:
		t = 0o140000
	}
	return t | n.Mode&0o7777
}

// DataBytes is how many bytes of a regular file hold data (the rest are
// holes), known without loading anything for files of up to 256 extents;
// ok is false for bigger files (their extent lists are stored apart).
func (n *Node) DataBytes() (b int64, ok bool) {
	if n.lists != nil {
		return 0, false
	}
	if n.inline != nil {
		return int64(len(n.inline)), true
	}
	for _, x := range n.extents {
		b += x.Len
	}
	return b, true
}

// IsDir reports whether n is a directory.
func (n *Node) IsDir() bool { return n.Type == TypeDir }
