package fileshare

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// metaTarget is the restored inode metadata is written to: an open
// descriptor (files, directories), an O_PATH descriptor reached through
// /proc/self/fd (FIFOs, sockets, devices), or a symlink named in its
// directory (never followed).
type metaTarget struct {
	fd      int    // >= 0: a real descriptor
	path    string // otherwise the path
	symlink bool   // path names a symlink: l* calls, no chmod
}

func fdTarget(fd int) metaTarget { return metaTarget{fd: fd} }
func pathTarget(fd int) metaTarget {
	return metaTarget{fd: -1, path: "/proc/self/fd/" + strconv.Itoa(fd)}
}
func symlinkTarget(dirfd int, name string) metaTarget {
	return metaTarget{fd: -1, path: fdPath(dirfd, name), symlink: true}
}

func (m metaTarget) chown(uid, gid uint32) error {
	switch {
	case m.fd >= 0:
		return unix.Fchown(m.fd, int(uid), int(gid))
	case m.symlink:
		return unix.Lchown(m.path, int(uid), int(gid))
	}
	return unix.Chown(m.path, int(uid), int(gid))
}

func (m metaTarget) chmod(mode uint32) error {
	switch {
	case m.fd >= 0:
		return unix.Fchmod(m.fd, mode)
	case m.symlink:
		return nil // Linux symlinks have no mode of their own
	}
	return unix.Chmod(m.path, mode)
}

func (m metaTarget) setxattr(name string, value []byte) error {
	switch {
	case m.fd >= 0:
		return unix.Fsetxattr(m.fd, name, value, 0)
	case m.symlink:
		return unix.Lsetxattr(m.path, name, value, 0)
	}
	return unix.Setxattr(m.path, name, value, 0)
}

func (m metaTarget) removexattr(name string) error {
	switch {
	case m.fd >= 0:
		return unix.Fremovexattr(m.fd, name)
	case m.symlink:
		return unix.Lremovexattr(m.path, name)
	}
	return unix.Removexattr(m.path, name)
}

// xattrNames lists the names the inode holds now.
func (m metaTarget) xattrNames() ([]string, error) {
	for size := 4096; ; size *= 4 {
		buf := make([]byte, size)
		var n int
		var err error
		switch {
		case m.fd >= 0:
			n, err = unix.Flistxattr(m.fd, buf)
		case m.symlink:
			n, err = unix.Llistxattr(m.path, buf)
		default:
			n, err = unix.Listxattr(m.path, buf)
		}
		if errors.Is(err, unix.ERANGE) && size < 1<<22 {
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return splitNames(buf[:n]), nil
	}
}

func splitNames(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				out = append(out, string(b[start:i]))
			}
			start = i + 1
		}
	}
	return out
}

func (m metaTarget) setTimes(ts []unix.Timespec) error {
	if m.fd >= 0 {
		return unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(m.fd), ts, 0)
	}
	if m.symlink {
		return unix.UtimesNanoAt(unix.AT_FDCWD, m.path, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, m.path, ts, 0)
}

func (m metaTarget) stat(st *unix.Stat_t) error {
	switch {
	case m.fd >= 0:
		return unix.Fstat(m.fd, st)
	case m.symlink:
		return unix.Lstat(m.path, st)
	}
	return unix.Stat(m.path, st)
}

// keptXattrs are never removed from a restored entry although the source
// did not record them: the target system's security label and NFSv4 ACL
// belong to the target, not to the data.
var keptXattrs = map[string]bool{"security.selinux": true, "system.nfs4_acl": true}

const xattrCapability = "security.capability"

// applyMeta resets the inode m to n's recorded state: owner (as root,
// unless DropPrivileges), exactly the recorded xattrs and ACLs (anything
// else, e.g. an ACL inherited from the target directory's default ACL, is
// removed), mode, then times, which are checked because not every file
// system holds every time.
func (rs *restorer) applyMeta(m metaTarget, n *Entry, rel string) {
	if rs.asRoot && !rs.opts.DropPrivileges {
		rs.check(rel, "owner", m.chown(n.Uid, n.Gid)) // before the rest: chown clears setuid and capabilities
	}
	rs.resetXattrs(m, n, rel)
	rs.check(rel, "mode", m.chmod(rs.mode(n, rel)))
	rs.setTimes(m, n, rel)
}

// mode is the mode to give n: the recorded one, minus setuid/setgid under DropPrivileges.
func (rs *restorer) mode(n *Entry, rel string) uint32 {
	const priv = unix.S_ISUID | unix.S_ISGID
	if rs.opts.DropPrivileges && n.Mode&priv != 0 {
		rs.drop("%s: setuid/setgid bits %04o dropped (restore as an admin with --keep-privileges to keep them)", showPath(rel), n.Mode&priv)
		return n.Mode &^ priv
	}
	return n.Mode
}

func (rs *restorer) resetXattrs(m metaTarget, n *Entry, rel string) {
	want := make(map[string]bool, len(n.Xattrs))
	for _, x := range n.Xattrs {
		want[x.Name] = true
	}
	if rs.opts.DropPrivileges {
		rs.dropPrivilegedXattrs(want, rel)
	}
	have, err := m.xattrNames()
	if err != nil {
		rs.warn("%s: cannot list the extended attributes it has now: %v", showPath(rel), err)
	}
	for _, name := range have {
		if !want[name] && !keptXattrs[name] {
			rs.check(rel, "removal of unrecorded xattr "+strconv.Quote(name), ignoreNoData(m.removexattr(name)))
		}
	}
	for _, x := range n.Xattrs {
		if want[x.Name] {
			rs.check(rel, "xattr "+strconv.Quote(x.Name), m.setxattr(x.Name, x.Value))
		}
	}
}

// dropPrivilegedXattrs takes out of want what only a privileged writer
// may set: trusted.* (CAP_SYS_ADMIN; overlayfs keeps whiteouts and
// redirects there) and security.* (capabilities, IMA/EVM, LSM labels). An
// SELinux label is left to the target's policy without a warning.
func (rs *restorer) dropPrivilegedXattrs(want map[string]bool, rel string) {
	for name := range want {
		switch {
		case name == xattrCapability:
			rs.drop("%s: file capabilities (security.capability) dropped (restore as an admin with --keep-privileges to keep them)", showPath(rel))
		case name == "security.selinux":
		case strings.HasPrefix(name, "trusted.") || strings.HasPrefix(name, "security."):
			rs.drop("%s: privileged xattr %q dropped (restore as an admin with --keep-privileges to keep it)", showPath(rel), name)
		default:
			continue
		}
		want[name] = false
	}
}

func ignoreNoData(err error) error {
	if errors.Is(err, unix.ENODATA) {
		return nil
	}
	return err
}

// setTimes sets atime and mtime and warns when the file system kept
// something else (a time beyond its range, or coarser than nanoseconds).
func (rs *restorer) setTimes(m metaTarget, n *Entry, rel string) {
	ts := []unix.Timespec{timespec(n.Atime), timespec(n.Mtime)}
	if err := m.setTimes(ts); err != nil {
		rs.warn("%s: times not restored: %v (the target file system may not hold %s)", showPath(rel), err, n.Mtime.UTC().Format(time.RFC3339Nano))
		return
	}
	var st unix.Stat_t
	if err := m.stat(&st); err != nil {
		return
	}
	if !n.Mtime.IsZero() && st.Mtim != ts[1] {
		rs.warn("%s: the target file system cannot hold mtime %s: it keeps %s", showPath(rel),
			n.Mtime.UTC().Format(time.RFC3339Nano), time.Unix(st.Mtim.Unix()).UTC().Format(time.RFC3339Nano))
	} else if !n.Atime.IsZero() && st.Atim != ts[0] {
		rs.warn("%s: the target file system cannot hold atime %s: it keeps %s", showPath(rel),
			n.Atime.UTC().Format(time.RFC3339Nano), time.Unix(st.Atim.Unix()).UTC().Format(time.RFC3339Nano))
	}
}

// timespec is t to the nanosecond at any date; the zero time leaves the
// entry's time as it is (UTIME_OMIT).
func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}
