package fileshare

import (
	"context"
	"fmt"
	"io"
	"time"
)

// RestoreSource is any tree RestoreFrom can write out with full metadata: a
// share point (Restore wraps its Tree), or the files of a guest file system
// read from a disk point. Implementations need not be safe for concurrent
// use except Open and Content.Data, which content workers call while the
// walk goes on.
type RestoreSource interface {
	// Root is the top directory; its metadata is applied to dst when dst
	// was absent or empty (or with ConflictOverwrite). Its Name is ignored.
	Root(ctx context.Context) (*Entry, error)
	// ReadDir calls fn for each entry of directory dir, in any order (name
	// order keeps restores reproducible). An error fn returns must be
	// returned unchanged; any other error is reported as a warning naming
	// the directory, and the entries already handed over stay restored.
	ReadDir(ctx context.Context, dir *Entry, fn func(*Entry) error) error
	// Open returns the contents of regular file e.
	Open(ctx context.Context, e *Entry) (Content, error)
}

// Content is the data of one regular file with its data/hole map.
type Content interface {
	// Data calls fn with the file's data in increasing offset order, in
	// pieces of at most a few MiB; every byte not handed over is a hole
	// (restored as a hole, never written). fn must not retain data. An error
	// fn returns must be returned unchanged.
	Data(ctx context.Context, fn func(off int64, data []byte) error) error
	// Close releases what Open took.
	Close() error
}

// Entry is one entry of a RestoreSource with every piece of metadata a
// restore writes.
type Entry struct {
	// Name is one path component: not "", ".", "..", no "/" or NUL, at most
	// 255 bytes. Entries with other names are skipped with a warning.
	Name string
	Type Type
	// Mode holds the permission bits incl. setuid/setgid/sticky (07777).
	Mode     uint32
	Uid, Gid uint32
	// Size is a regular file's length in bytes (0 for other types).
	Size int64
	// Mtime and Atime are set on the restored entry; any time.Time is kept
	// to the nanosecond where the target file system can hold it (a warning
	// names each entry where it cannot). Ctime is informational.
	Mtime, Atime, Ctime time.Time
	// Nlink is the link count in the source (informational).
	Nlink uint32
	// Rdev is the device number of a char or block device (unix.Mkdev).
	Rdev uint64
	// Target is a symlink's target, verbatim.
	Target string
	// LinkKey groups hard links: every entry (of any non-directory type)
	// with the same non-empty LinkKey is one inode in the source and is
	// restored as hard links of the first one restored. "" = not linked.
	LinkKey string
	// Xattrs are exactly the extended attributes the restored entry gets
	// (POSIX ACLs as system.posix_acl_access / system.posix_acl_default);
	// any other xattr or ACL the new entry holds (e.g. inherited from a
	// default ACL of the target directory) is removed.
	Xattrs []Xattr
	// Ref is the source's own handle (a node, an inode number); RestoreFrom
	// never looks at it and hands the Entry back to ReadDir and Open.
	Ref any
}

// DataRange is one data extent of a file: Len bytes at offset Off.
type DataRange struct {
	Off, Len int64
}

// ReaderContent adapts a random-access reader and its data map to Content:
// Data reads each range in pieces of up to 1 MiB. Ranges must be sorted and
// not overlap; everything outside them is a hole.
type ReaderContent struct {
	R      io.ReaderAt
	Ranges []DataRange
	// Closer, when set, is called by Close.
	Closer io.Closer
}

const readerContentPiece = 1 << 20

// Data implements Content.
func (c *ReaderContent) Data(ctx context.Context, fn func(off int64, data []byte) error) error {
	var buf []byte
	end := int64(0)
	for _, r := range c.Ranges {
		if r.Off < end || r.Len < 0 {
			return fmt.Errorf("data range %d+%d overlaps or is out of order", r.Off, r.Len)
		}
		end = r.Off + r.Len
		for off := r.Off; off < end; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(end-off, readerContentPiece)
			if int64(cap(buf)) < n {
				buf = make([]byte, n)
			}
			p := buf[:n]
			if k, err := c.R.ReadAt(p, off); k < len(p) {
				return fmt.Errorf("read at %d: %w", off, orEOF(err))
			}
			if err := fn(off, p); err != nil {
				return err
			}
			off += n
		}
	}
	return nil
}

func orEOF(err error) error {
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Close implements Content.
func (c *ReaderContent) Close() error {
	if c.Closer != nil {
		return c.Closer.Close()
	}
	return nil
}
