package fileshare

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// file restores a regular file (or links it to the first name of its
// hardlink group restored earlier in this run).
func (rs *restorer) file(ctx context.Context, dirfd int, name string, n *Node, rel, out string) error {
	key := n.LinkPath
	if key == "" {
		key = rel
	}
	if n.LinkPath != "" {
		if first, ok := rs.links[n.LinkPath]; ok {
			err := rs.link(dirfd, name, first)
			if err == nil {
				rs.files.Add(1)
				return nil
			}
			rs.warn("%s: hardlink to %s failed, restored as a copy: %v", showPath(rel), showPath(first), err)
		}
	}
	fd, err := unix.Openat(dirfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("%s: create: %w", showPath(rel), err)
	}
	rs.files.Add(1)
	if n.Nlink > 1 {
		rs.links[key] = out
	}
	return rs.queue(ctx, &restoreJob{fd: fd, n: n, rel: rel, out: out})
}

// contents writes n's data at its offsets; holes stay holes.
func (rs *restorer) contents(ctx context.Context, fd int, n *Node) error {
	if err := unix.Ftruncate(fd, n.Size); err != nil {
		return fmt.Errorf("set size: %w", err)
	}
	f, err := openFile(ctx, rs.t.r, n)
	if err != nil {
		return err
	}
	if n.inline != nil {
		return pwriteAll(fd, n.inline, 0)
	}
	return f.Extents(func(x Extent) error {
		data, err := f.chunk(ctx, &x)
		if err != nil {
			return err
		}
		rs.bytes.Add(int64(len(data)))
		return pwriteAll(fd, data, x.Off)
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

func (rs *restorer) symlink(dirfd int, name string, n *Node, rel string) error {
	if err := unix.Symlinkat(n.Target, dirfd, name); err != nil {
		return fmt.Errorf("%s: symlink: %w", showPath(rel), err)
	}
	rs.files.Add(1)
	if rs.asRoot {
		rs.check(rel, "owner", unix.Fchownat(dirfd, name, int(n.Uid), int(n.Gid), unix.AT_SYMLINK_NOFOLLOW))
	}
	for _, x := range n.Xattrs {
		rs.check(rel, "xattr "+x.Name, unix.Lsetxattr(fdPath(dirfd, name), x.Name, x.Value, 0))
	}
	rs.check(rel, "times", unix.UtimesNanoAt(dirfd, name, times(n), unix.AT_SYMLINK_NOFOLLOW))
	return nil
}

// special restores a fifo or device node.
func (rs *restorer) special(dirfd int, name string, n *Node, rel string) error {
	var err error
	switch n.Type {
	case TypeFifo:
		err = unix.Mkfifoat(dirfd, name, 0o600)
	case TypeChar:
		err = unix.Mknodat(dirfd, name, unix.S_IFCHR|0o600, int(n.Rdev))
	case TypeBlock:
		err = unix.Mknodat(dirfd, name, unix.S_IFBLK|0o600, int(n.Rdev))
	}
	if err != nil {
		return fmt.Errorf("%s: create %s: %w (devices need root)", showPath(rel), n.Type, err)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", showPath(rel), err)
	}
	defer unix.Close(fd)
	rs.files.Add(1)
	rs.applyMeta(fd, n, rel)
	return nil
}

// applyMeta sets owner (as root), mode, xattrs and times on the inode fd
// refers to: through the descriptor for files and directories, through
// /proc/self/fd for the O_PATH descriptors of fifos and devices.
func (rs *restorer) applyMeta(fd int, n *Node, rel string) {
	p := "/proc/self/fd/" + strconv.Itoa(fd)
	byFd := n.Type == TypeFile || n.Type == TypeDir
	if rs.asRoot {
		rs.check(rel, "owner", either(byFd, func() error { return unix.Fchown(fd, int(n.Uid), int(n.Gid)) },
			func() error { return unix.Chown(p, int(n.Uid), int(n.Gid)) }))
	}
	rs.check(rel, "mode", either(byFd, func() error { return unix.Fchmod(fd, n.Mode) },
		func() error { return unix.Chmod(p, n.Mode) }))
	for _, x := range n.Xattrs {
		rs.check(rel, "xattr "+x.Name, either(byFd, func() error { return unix.Fsetxattr(fd, x.Name, x.Value, 0) },
			func() error { return unix.Setxattr(p, x.Name, x.Value, 0) }))
	}
	rs.check(rel, "times", unix.UtimesNanoAt(unix.AT_FDCWD, p, times(n), 0))
}

func either(first bool, a, b func() error) error {
	if first {
		return a()
	}
	return b()
}

func times(n *Node) []unix.Timespec {
	return []unix.Timespec{unix.NsecToTimespec(timeNs(n.Atime)), unix.NsecToTimespec(timeNs(n.Mtime))}
}

func (rs *restorer) check(rel, what string, err error) {
	if err != nil {
		rs.warn("%s: %s not restored: %v", showPath(rel), what, err)
	}
}
