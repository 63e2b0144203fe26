package guest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// FS is a read-only view of one guest file system. Names are slash-separated
// and relative to the volume root ("." is the root; a leading "/" is
// ignored). All methods are safe for concurrent use. Nothing is followed:
// Stat, ReadDir and Open act on the named entry itself, so a symlink is
// reported as a symlink (use Readlink); AsIOFS gives an io/fs view whose Open
// follows symlinks inside the volume.
type FS interface {
	// Type is the file system type (one of the Type* constants).
	Type() string
	// Stat describes the named entry without following a final symlink.
	Stat(name string) (Entry, error)
	// ReadDir lists a directory sorted by name, without "." and "..".
	ReadDir(name string) ([]Entry, error)
	// Open opens a regular file for random-access reading.
	Open(name string) (File, error)
	// Readlink returns a symlink's target as stored.
	Readlink(name string) (string, error)
	// Xattrs returns the named entry's extended attributes in the Linux
	// xattr namespaces ("user.", "trusted.", "security.", "system."),
	// sorted by name; ACLs come as system.posix_acl_access and
	// system.posix_acl_default in the Linux xattr format (see acl.go).
	// File systems without xattrs (FAT, NTFS) give none.
	Xattrs(name string) ([]Xattr, error)
}

// Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// File is an open regular file. ReadAt is safe for concurrent use and
// returns io.EOF at the end of the file.
type File interface {
	io.ReaderAt
	Size() int64
	// Data returns the byte ranges that hold data, sorted and disjoint,
	// within [0, Size()); everything else is a hole and reads as zeros.
	// Unwritten (preallocated) extents count as holes. A file system
	// without a block map (FAT) reports the whole file as data.
	Data() []Range
}

// Range is a byte range [Off, Off+Len).
type Range struct{ Off, Len int64 }

// Entry describes a file, directory or other node.
type Entry struct {
	Name    string
	Mode    fs.FileMode // permission and type bits (fs.ModeDir, fs.ModeSymlink, …)
	Size    int64
	ModTime time.Time
	// Atime, Ctime and Btime (birth) are zero where the file system does
	// not record them. All times keep nanoseconds and any representable
	// second, before 1970 and after 2038 included.
	Atime time.Time
	Ctime time.Time
	Btime time.Time
	Uid   uint32 // 0 where the file system has no owners (FAT, NTFS)
	Gid   uint32
	Nlink uint32
	// Rdev is a device node's number in the Linux dev_t encoding (as
	// unix.Mkdev gives it); 0 for other entries.
	Rdev uint64
	// Blocks is the space allocated to the entry in 512-byte units as the
	// guest kernel reports st_blocks, or -1 where the file system does not
	// say (FAT, NTFS).
	Blocks int64
	// RawName is the name as stored when Name had to be escaped (see
	// EscapeName); empty otherwise.
	RawName string
	// Ino is stable and unique within the volume: the file system's own
	// inode (ext, XFS) or MFT record (NTFS) number; for FAT the byte
	// offset of the directory entry (the root is 1).
	Ino uint64
	// Target is the symlink target, filled for symlinks.
	Target string

	ref uint64 // backend-private locator (e.g. FAT first cluster)
}

// Info returns the entry as an fs.FileInfo; Sys() returns *Entry.
func (e Entry) Info() fs.FileInfo { return entryInfo{e} }

type entryInfo struct{ e Entry }

func (i entryInfo) Name() string       { return i.e.Name }
func (i entryInfo) Size() int64        { return i.e.Size }
func (i entryInfo) Mode() fs.FileMode  { return i.e.Mode }
func (i entryInfo) ModTime() time.Time { return i.e.ModTime }
func (i entryInfo) IsDir() bool        { return i.e.Mode.IsDir() }
func (i entryInfo) Sys() any           { return &i.e }

// OpenFS opens the file system of type fstype (as reported by Probe, e.g.
// "ext4", "xfs", "vfat", "ntfs") on vol, which is read only within
// [0, size). A corrupt file system gives an error wrapping ErrCorrupt; an
// unknown type wraps ErrUnsupported.
func OpenFS(ctx context.Context, vol io.ReaderAt, size int64, fstype string) (fsys FS, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := newSection(vol, 0, size)
	defer recoverInto(&err, "open "+fstype)
	var b backend
	switch fstype {
	case TypeExt2, TypeExt3, TypeExt4:
		b, err = openExt(r, size)
	case TypeXFS:
		b, err = openXFS(r, size)
	case TypeVFAT:
		b, err = openFAT(r, size)
	case TypeNTFS:
		b, err = openNTFS(ctx, r, size)
	default:
		return nil, fmt.Errorf("open %q: %w", fstype, ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", fstype, err)
	}
	return newTree(fstype, b)
}
