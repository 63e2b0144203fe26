package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// guestWriter writes entries of a guest file system beneath a root
// directory descriptor.
type guestWriter struct {
	root   int
	to     string
	fsys   guest.FS
	jc     *jobCtx
	policy guestPolicy
	links  map[uint64]string // inode → rel of its first restored name
	files  int64
	bytes  int64
	buf    []byte
}

func newGuestWriter(dst string, fsys guest.FS, jc *jobCtx, p guestPolicy) (*guestWriter, error) {
	fd, err := unix.Open(dst, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open restore target %s: %w", dst, err)
	}
	return &guestWriter{root: fd, to: dst, fsys: fsys, jc: jc, policy: p, links: map[uint64]string{},
		buf: make([]byte, 1<<20)}, nil
}

func (w *guestWriter) close() { unix.Close(w.root) }

// beneath is how every path under the target is resolved.
const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS

// openDir opens a directory beneath the target ("." is the target).
func (w *guestWriter) openDir(rel string) (int, error) {
	return unix.Openat2(w.root, rel, &unix.OpenHow{Flags: unix.O_DIRECTORY | unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: beneath})
}

// restorePath restores one requested path: its missing ancestors first
// (with the guest's metadata, applied last), then the entry and everything
// beneath it.
func (w *guestWriter) restorePath(ctx context.Context, s selected) error {
	if s.rel == "." {
		fd, err := w.openDir(".")
		if err != nil {
			return fmt.Errorf("open restore target %s: %w", w.to, err)
		}
		defer unix.Close(fd)
		return w.children(ctx, fd, ".")
	}
	created, err := w.ancestors(path.Dir(s.rel))
	if err != nil {
		return err
	}
	pfd, err := w.openDir(path.Dir(s.rel))
	if err != nil {
		return fmt.Errorf("open %s beneath %s: %w", path.Dir(s.rel), w.to, err)
	}
	err = w.entry(ctx, pfd, path.Base(s.rel), s.rel, s.e)
	unix.Close(pfd)
	if err != nil {
		return err
	}
	for i := len(created) - 1; i >= 0; i-- {
		if err := w.metaOf(created[i]); err != nil {
			return err
		}
	}
	return nil
}

// ancestors creates the missing directories of dir and returns them.
func (w *guestWriter) ancestors(dir string) ([]string, error) {
	if dir == "." {
		return nil, nil
	}
	var created []string
	parts := strings.Split(dir, "/")
	for i := range parts {
		rel := strings.Join(parts[:i+1], "/")
		pfd, err := w.openDir(path.Dir(rel))
		if err != nil {
			return nil, fmt.Errorf("open %s beneath %s: %w", path.Dir(rel), w.to, err)
		}
		err = unix.Mkdirat(pfd, parts[i], 0o700)
		unix.Close(pfd)
		switch {
		case err == nil:
			created = append(created, rel)
		case !errors.Is(err, unix.EEXIST):
			return nil, fmt.Errorf("create %s beneath %s: %w", rel, w.to, err)
		}
	}
	return created, nil
}

// metaOf applies the guest's metadata to an ancestor directory created here.
func (w *guestWriter) metaOf(rel string) error {
	e, err := w.fsys.Stat(rel)
	if err != nil {
		return fmt.Errorf("guest %s: %w", rel, err)
	}
	fd, err := w.openDir(rel)
	if err != nil {
		return fmt.Errorf("open %s beneath %s: %w", rel, w.to, err)
	}
	defer unix.Close(fd)
	return w.applyMeta(target{fd: fd}, rel, e)
}

// entry creates one entry named name in the directory pfd.
func (w *guestWriter) entry(ctx context.Context, pfd int, name, rel string, e guest.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.RawName != "" {
		w.jc.warn(fmt.Sprintf("%s: the guest stores this name as %q, which cannot be a file name; restored as %q",
			rel, e.RawName, e.Name))
	}
	if !e.Mode.IsDir() && e.Nlink > 1 {
		if first, ok := w.links[e.Ino]; ok {
			return w.link(pfd, name, rel, first)
		}
	}
	var err error
	switch {
	case e.Mode.IsDir():
		return w.dir(ctx, pfd, name, rel, e)
	case e.Mode.IsRegular():
		err = w.file(ctx, pfd, name, rel, e)
	case e.Mode&fs.ModeSymlink != 0:
		err = w.symlink(pfd, name, rel, e)
	default:
		var made bool
		if made, err = w.special(pfd, name, rel, e); !made {
			return err
		}
	}
	if err != nil {
		return err
	}
	w.files++
	if e.Nlink > 1 {
		w.links[e.Ino] = rel
	}
	return nil
}

func (w *guestWriter) dir(ctx context.Context, pfd int, name, rel string, e guest.Entry) error {
	if err := unix.Mkdirat(pfd, name, 0o700); err != nil {
		return fmt.Errorf("create directory %s beneath %s: %w", rel, w.to, err)
	}
	fd, err := unix.Openat(pfd, name, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open %s beneath %s: %w", rel, w.to, err)
	}
	defer unix.Close(fd)
	if err := w.children(ctx, fd, rel); err != nil {
		return err
	}
	w.files++
	return w.applyMeta(target{fd: fd}, rel, e)
}

func (w *guestWriter) children(ctx context.Context, fd int, rel string) error {
	ents, err := w.fsys.ReadDir(rel)
	if err != nil {
		w.jc.warn(fmt.Sprintf("%s: unreadable directory in the guest: %v", rel, err))
		return nil
	}
	for _, c := range ents {
		if err := w.entry(ctx, fd, c.Name, path.Join(rel, c.Name), c); err != nil {
			return err
		}
	}
	return nil
}

// link makes name a hardlink to the entry restored first at first.
func (w *guestWriter) link(pfd int, name, rel, first string) error {
	ffd, err := unix.Openat2(w.root, path.Dir(first), &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: beneath})
	if err != nil {
		return fmt.Errorf("hardlink %s: open %s: %w", rel, path.Dir(first), err)
	}
	defer unix.Close(ffd)
	if err := unix.Linkat(ffd, path.Base(first), pfd, name, 0); err != nil {
		return fmt.Errorf("hardlink %s to %s beneath %s: %w", rel, first, w.to, err)
	}
	w.files++
	return nil
}

// file writes a regular file's data ranges only, so holes stay holes.
func (w *guestWriter) file(ctx context.Context, pfd int, name, rel string, e guest.Entry) error {
	in, err := w.fsys.Open(rel)
	if err != nil {
		return fmt.Errorf("read %s in the guest: %w", rel, err)
	}
	fd, err := unix.Openat(pfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s beneath %s: %w", rel, w.to, err)
	}
	defer unix.Close(fd)
	for _, r := range in.Data() {
		if err := w.copyRange(ctx, fd, in, r); err != nil {
			return fmt.Errorf("copy %s: %w", rel, err)
		}
	}
	if err := unix.Ftruncate(fd, in.Size()); err != nil {
		return fmt.Errorf("size %s: %w", rel, err)
	}
	return w.applyMeta(target{fd: fd}, rel, e)
}

func (w *guestWriter) copyRange(ctx context.Context, fd int, in guest.File, r guest.Range) error {
	for off, end := r.Off, r.Off+r.Len; off < end; {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := w.buf[:min(int64(len(w.buf)), end-off)]
		n, err := in.ReadAt(b, off)
		if n < len(b) {
			return fmt.Errorf("read at %d: %w", off, errors.Join(err, errShortRead))
		}
		for k := 0; k < n; {
			m, err := unix.Pwrite(fd, b[k:n], off+int64(k))
			if err != nil {
				return fmt.Errorf("write at %d: %w", off+int64(k), err)
			}
			k += m
		}
		off += int64(n)
		w.bytes += int64(n)
		w.jc.progress(w.bytes, 0)
	}
	return nil
}

var errShortRead = errors.New("short read from the guest file system")

func (w *guestWriter) symlink(pfd int, name, rel string, e guest.Entry) error {
	tgt, err := w.fsys.Readlink(rel)
	if err != nil {
		return fmt.Errorf("read symlink %s in the guest: %w", rel, err)
	}
	if err := unix.Symlinkat(tgt, pfd, name); err != nil {
		return fmt.Errorf("create symlink %s beneath %s: %w", rel, w.to, err)
	}
	return w.applyMeta(target{fd: -1, pfd: pfd, name: name, link: true}, rel, e)
}

// special creates a FIFO, socket or (when kept) device node; made is false
// when the entry was left out.
func (w *guestWriter) special(pfd int, name, rel string, e guest.Entry) (made bool, err error) {
	var mode uint32
	var dev uint64
	switch {
	case e.Mode&fs.ModeNamedPipe != 0:
		mode = unix.S_IFIFO
	case e.Mode&fs.ModeSocket != 0:
		mode = unix.S_IFSOCK
	case e.Mode&fs.ModeDevice != 0:
		if !w.policy.keep {
			w.policy.dropped.devices++
			return false, nil
		}
		mode, dev = unix.S_IFBLK, e.Rdev
		if e.Mode&fs.ModeCharDevice != 0 {
			mode = unix.S_IFCHR
		}
	default:
		w.jc.warn(fmt.Sprintf("%s: file type %v not restored", rel, e.Mode.Type()))
		return false, nil
	}
	if err := unix.Mknodat(pfd, name, mode|0o600, int(dev)); err != nil {
		return false, fmt.Errorf("create %s beneath %s: %w", rel, w.to, err)
	}
	return true, w.applyMeta(target{fd: -1, pfd: pfd, name: name}, rel, e)
}
