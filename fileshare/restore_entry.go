package fileshare

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// linked makes name a hard link of the first restored entry of n's link
// group; false means there is none yet (or linking failed, with a warning)
// and n is to be created.
func (rs *restorer) linked(dirfd int, name string, n *Entry, rel string) bool {
	if n.LinkKey == "" {
		return false
	}
	first, ok := rs.links[n.LinkKey]
	if !ok {
		return false
	}
	if first.typ != n.Type {
		rs.warn("%s: recorded as a hard link of %s, which is a %s: restored on its own", showPath(rel), showPath(first.path), first.typ)
		return false
	}
	if err := rs.link(dirfd, name, first.path); err != nil {
		rs.warn("%s: hardlink to %s failed, restored as a copy: %v", showPath(rel), showPath(first.path), err)
		return false
	}
	rs.files.Add(1)
	return true
}

// created records a newly made non-directory entry as the first of its link group.
func (rs *restorer) created(n *Entry, out string) {
	rs.files.Add(1)
	if n.LinkKey != "" {
		if _, ok := rs.links[n.LinkKey]; !ok {
			rs.links[n.LinkKey] = link{path: out, typ: n.Type}
		}
	}
}

// file restores a regular file: created empty here, filled by a worker.
func (rs *restorer) file(ctx context.Context, dirfd int, name string, n *Entry, rel, out string) error {
	if rs.linked(dirfd, name, n, rel) {
		return nil
	}
	fd, err := unix.Openat(dirfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("%s: create: %w", showPath(rel), err)
	}
	rs.created(n, out)
	return rs.queue(ctx, &restoreJob{fd: fd, n: n, rel: rel, out: out})
}

// contents writes n's data at its offsets; holes stay holes.
func (rs *restorer) contents(ctx context.Context, fd int, n *Entry) error {
	if err := unix.Ftruncate(fd, n.Size); err != nil {
		return fmt.Errorf("set size: %w", err)
	}
	if n.Size == 0 {
		return nil
	}
	c, err := rs.src.Open(ctx, n)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Data(ctx, func(off int64, data []byte) error {
		if off < 0 || off+int64(len(data)) > n.Size {
			return fmt.Errorf("data at %d+%d lies beyond the recorded size %d", off, len(data), n.Size)
		}
		rs.bytes.Add(int64(len(data)))
		return pwriteAll(fd, data, off)
	})
}

func pwriteAll(fd int, b []byte, off int64) error {
	for len(b) > 0 {
		k, err := unix.Pwrite(fd, b, off)
		if err != nil {
			return fmt.Errorf("write at %d: %w", off, err)
		}
		b, off = b[k:], off+int64(k)
	}
	return nil
}

// link makes name a hardlink of first (a path under dst this restore
// created), resolved beneath dst without following any symlink.
func (rs *restorer) link(dirfd int, name, first string) error {
	parent, base := "", first
	if i := strings.LastIndexByte(first, '/'); i >= 0 {
		parent, base = first[:i], first[i+1:]
	}
	pfd := rs.dstfd
	if parent != "" {
		fd, err := openBeneath(rs.dstfd, parent)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		pfd = fd
	}
	return unix.Linkat(pfd, base, dirfd, name, 0)
}

// openBeneath opens directory path below dirfd, refusing symlinks and "..":
// openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or component by
// component with O_NOFOLLOW where the kernel lacks openat2.
func openBeneath(dirfd int, path string) (int, error) {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(dirfd, path, &how)
	if err != unix.ENOSYS {
		return fd, err
	}
	cur := dirfd
	for _, c := range strings.Split(path, "/") {
		if !validName(c) {
			return -1, fmt.Errorf("path %q: bad component", path)
		}
		next, err := unix.Openat(cur, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if cur != dirfd {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur = next
	}
	return cur, nil
}

func (rs *restorer) symlink(dirfd int, name string, n *Entry, rel, out string) error {
	if rs.linked(dirfd, name, n, rel) {
		return nil
	}
	if err := unix.Symlinkat(n.Target, dirfd, name); err != nil {
		return fmt.Errorf("%s: symlink: %w", showPath(rel), err)
	}
	rs.created(n, out)
	rs.applyMeta(symlinkTarget(dirfd, name), n, rel)
	return nil
}

// special restores a FIFO, socket or device node.
func (rs *restorer) special(dirfd int, name string, n *Entry, rel, out string) error {
	if rs.opts.DropPrivileges && (n.Type == TypeChar || n.Type == TypeBlock) {
		rs.drop("%s: %s %d:%d not restored (device nodes need --keep-privileges and an admin)",
			showPath(rel), n.Type, unix.Major(n.Rdev), unix.Minor(n.Rdev))
		return nil
	}
	if rs.linked(dirfd, name, n, rel) {
		return nil
	}
	var err error
	switch n.Type {
	case TypeFifo:
		err = unix.Mkfifoat(dirfd, name, 0o600)
	case TypeSocket:
		err = unix.Mknodat(dirfd, name, unix.S_IFSOCK|0o600, 0)
	case TypeChar:
		err = unix.Mknodat(dirfd, name, unix.S_IFCHR|0o600, int(n.Rdev))
	case TypeBlock:
		err = unix.Mknodat(dirfd, name, unix.S_IFBLK|0o600, int(n.Rdev))
	default:
		return fmt.Errorf("%s: entry type %d cannot be restored", showPath(rel), n.Type)
	}
	if err != nil {
		return fmt.Errorf("%s: create %s: %w (devices need root)", showPath(rel), n.Type, err)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", showPath(rel), err)
	}
	defer unix.Close(fd)
	rs.created(n, out)
	rs.applyMeta(pathTarget(fd), n, rel)
	return nil
}

// drop records one thing DropPrivileges left out.
func (rs *restorer) drop(format string, a ...any) {
	rs.dropped.Add(1)
	rs.warn(format, a...)
}

func (rs *restorer) check(rel, what string, err error) {
	if err != nil {
		rs.warn("%s: %s not restored: %v", showPath(rel), what, err)
	}
}
