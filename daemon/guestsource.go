package daemon

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"sync"

	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// guestSource presents the files of a guest file system (a volume of a
// disk point) as a fileshare.RestoreSource, so "restore files" from a disk
// point goes through the same writer, metadata rules and conflict checks
// as a share restore. Entry.Ref is the entry's slash path in the volume.
// Hardlinks are grouped by guest inode number; escaped names (see
// guest.EscapeName) and unreadable xattrs become warnings.
type guestSource struct {
	fsys guest.FS

	mu    sync.Mutex
	warns []string
}

var _ fileshare.RestoreSource = (*guestSource)(nil)

func newGuestSource(fsys guest.FS) *guestSource { return &guestSource{fsys: fsys} }

func (s *guestSource) warn(format string, a ...any) {
	s.mu.Lock()
	s.warns = append(s.warns, fmt.Sprintf(format, a...))
	s.mu.Unlock()
}

// warnings returns what the source met on the way.
func (s *guestSource) warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.warns...)
}

// Root is the volume's top directory.
func (s *guestSource) Root(context.Context) (*fileshare.Entry, error) {
	e, err := s.fsys.Stat(".")
	if err != nil {
		return nil, fmt.Errorf("guest root directory: %w", err)
	}
	return s.entry(".", e)
}

// ReadDir hands over dir's entries in name order.
func (s *guestSource) ReadDir(ctx context.Context, dir *fileshare.Entry, fn func(*fileshare.Entry) error) error {
	rel := dir.Ref.(string)
	ents, err := s.fsys.ReadDir(rel)
	if err != nil {
		return fmt.Errorf("guest directory %s: %w", rel, err)
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		child := path.Join(rel, e.Name)
		if e.RawName != "" {
			s.warn("%s: the guest stores this name as %q, which cannot be a file name; restored as %q", child, e.RawName, e.Name)
		}
		fe, err := s.entry(child, e)
		if err != nil {
			s.warn("%s: not restored: %v", child, err)
			continue
		}
		if err := fn(fe); err != nil {
			return err
		}
	}
	return nil
}

// Open gives a regular file's contents with its data/hole map.
func (s *guestSource) Open(_ context.Context, e *fileshare.Entry) (fileshare.Content, error) {
	f, err := s.fsys.Open(e.Ref.(string))
	if err != nil {
		return nil, err
	}
	data := f.Data()
	ranges := make([]fileshare.DataRange, len(data))
	for i, r := range data {
		ranges[i] = fileshare.DataRange{Off: r.Off, Len: r.Len}
	}
	return &fileshare.ReaderContent{R: f, Ranges: ranges}, nil
}

// entry converts a guest entry; rel is its path in the volume.
func (s *guestSource) entry(rel string, e guest.Entry) (*fileshare.Entry, error) {
	fe := &fileshare.Entry{Name: e.Name, Type: guestType(e.Mode), Mode: guestPerm(e.Mode), Uid: e.Uid, Gid: e.Gid,
		Mtime: e.ModTime, Atime: e.Atime, Ctime: e.Ctime, Nlink: e.Nlink, Rdev: e.Rdev, Ref: rel}
	switch fe.Type {
	case fileshare.TypeFile:
		fe.Size = e.Size
	case fileshare.TypeSymlink:
		t, err := s.fsys.Readlink(rel)
		if err != nil {
			return nil, fmt.Errorf("symlink target: %w", err)
		}
		fe.Target = t
	case 0:
		return nil, fmt.Errorf("file type %v cannot be restored", e.Mode.Type())
	}
	if fe.Type != fileshare.TypeDir && e.Nlink > 1 {
		fe.LinkKey = strconv.FormatUint(e.Ino, 10)
	}
	xs, err := s.fsys.Xattrs(rel)
	if err != nil {
		s.warn("%s: extended attributes unreadable in the guest, restored without them: %v", rel, err)
	}
	for _, x := range xs {
		fe.Xattrs = append(fe.Xattrs, fileshare.Xattr{Name: x.Name, Value: x.Value})
	}
	return fe, nil
}

func guestType(m fs.FileMode) fileshare.Type {
	switch {
	case m.IsDir():
		return fileshare.TypeDir
	case m.IsRegular():
		return fileshare.TypeFile
	case m&fs.ModeSymlink != 0:
		return fileshare.TypeSymlink
	case m&fs.ModeNamedPipe != 0:
		return fileshare.TypeFifo
	case m&fs.ModeSocket != 0:
		return fileshare.TypeSocket
	case m&fs.ModeCharDevice != 0:
		return fileshare.TypeChar
	case m&fs.ModeDevice != 0:
		return fileshare.TypeBlock
	}
	return 0
}

// guestPerm is the permission bits with setuid, setgid and sticky (07777).
func guestPerm(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}
