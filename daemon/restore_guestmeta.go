package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// guestPolicy says what of a guest's privileges a restore keeps. A disk
// point's files are untrusted guest content: unless an admin asked to keep
// them (--keep-privileges), setuid and setgid bits of non-directories,
// security.capability and device nodes are dropped and entries are owned
// by root (their modes otherwise kept). A daemon that is not root cannot
// set owners at all: entries are its own.
type guestPolicy struct {
	keep    bool
	root    bool
	dropped struct{ setid, caps, devices, owners int }
}

// xattrCapability is the file capability set (setcap).
const xattrCapability = "security.capability"

// target is where metadata goes: an open file or directory (fd ≥ 0), or a
// name in the directory pfd (symlinks, FIFOs, device nodes).
type target struct {
	fd   int
	pfd  int
	name string
	link bool
}

// procPath names the target through the parent's descriptor, so no path
// beneath the restore target is resolved again.
func (t target) procPath() string { return fmt.Sprintf("/proc/self/fd/%d/%s", t.pfd, t.name) }

func (t target) chown(uid, gid int) error {
	if t.fd >= 0 {
		return unix.Fchown(t.fd, uid, gid)
	}
	return unix.Fchownat(t.pfd, t.name, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
}

func (t target) chmod(mode uint32) error {
	if t.fd >= 0 {
		return unix.Fchmod(t.fd, mode)
	}
	return unix.Fchmodat(t.pfd, t.name, mode, 0) // never a symlink: made here, in a directory only root may write
}

func (t target) setxattr(name string, v []byte) error {
	if t.fd >= 0 {
		return unix.Fsetxattr(t.fd, name, v, 0)
	}
	return unix.Lsetxattr(t.procPath(), name, v, 0)
}

func (t target) removexattr(name string) error {
	if t.fd >= 0 {
		return unix.Fremovexattr(t.fd, name)
	}
	return unix.Lremovexattr(t.procPath(), name)
}

func (t target) listxattr() ([]string, error) {
	buf := make([]byte, 64<<10)
	var n int
	var err error
	if t.fd >= 0 {
		n, err = unix.Flistxattr(t.fd, buf)
	} else {
		n, err = unix.Llistxattr(t.procPath(), buf)
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range bytes.Split(buf[:n], []byte{0}) {
		if len(s) > 0 {
			names = append(names, string(s))
		}
	}
	return names, nil
}

func (t target) times(ts []unix.Timespec) error {
	if t.fd >= 0 {
		return unix.UtimesNanoAt(t.fd, "", ts, unix.AT_EMPTY_PATH)
	}
	return unix.UtimesNanoAt(t.pfd, t.name, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// applyMeta sets owner, mode, xattrs (exactly the recorded ones: inherited
// default ACLs and anything else not recorded are removed) and times, in
// that order: a chown clears capabilities and setuid bits, and times go
// last because the other changes touch ctime only.
func (w *guestWriter) applyMeta(t target, rel string, e guest.Entry) error {
	p := &w.policy
	uid, gid := int(e.Uid), int(e.Gid)
	if !p.keep && (uid != 0 || gid != 0) {
		uid, gid = 0, 0
		p.dropped.owners++
	}
	if p.root {
		if err := t.chown(uid, gid); err != nil {
			return fmt.Errorf("set owner of %s beneath %s: %w", rel, w.to, err)
		}
	}
	if !t.link {
		if err := t.chmod(w.mode(e)); err != nil {
			return fmt.Errorf("set mode of %s beneath %s: %w", rel, w.to, err)
		}
	}
	w.xattrs(t, rel)
	return w.setTimes(t, rel, e)
}

// mode is e's permission bits, setuid/setgid dropped from non-directories
// unless privileges are kept.
func (w *guestWriter) mode(e guest.Entry) uint32 {
	m := uint32(e.Mode.Perm()) | modeExtra(e.Mode)
	if !w.policy.keep && !e.Mode.IsDir() && m&(unix.S_ISUID|unix.S_ISGID) != 0 {
		m &^= unix.S_ISUID | unix.S_ISGID
		w.policy.dropped.setid++
	}
	return m
}

func modeExtra(m fs.FileMode) uint32 {
	var x uint32
	if m&fs.ModeSetuid != 0 {
		x |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		x |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		x |= unix.S_ISVTX
	}
	return x
}

// xattrs makes the target's xattrs exactly the recorded ones; what the
// target cannot hold is a warning.
func (w *guestWriter) xattrs(t target, rel string) {
	xs, err := w.fsys.Xattrs(rel)
	if err != nil {
		w.jc.warn(fmt.Sprintf("%s: xattrs unreadable in the guest, none restored: %v", rel, err))
	}
	want := map[string]bool{}
	for _, x := range xs {
		if x.Name == xattrCapability && !w.policy.keep {
			w.policy.dropped.caps++
			continue
		}
		want[x.Name] = true
		if err := t.setxattr(x.Name, x.Value); err != nil {
			w.jc.warn(fmt.Sprintf("%s: xattr %s not restored: %v", rel, x.Name, err))
		}
	}
	have, err := t.listxattr()
	if err != nil {
		if !errors.Is(err, unix.ENOTSUP) {
			w.jc.warn(fmt.Sprintf("%s: cannot list xattrs beneath %s: %v", rel, w.to, err))
		}
		return
	}
	for _, name := range have {
		if want[name] {
			continue
		}
		if err := t.removexattr(name); err != nil && !errors.Is(err, unix.ENODATA) {
			w.jc.warn(fmt.Sprintf("%s: xattr %s (not in the guest) not removed: %v", rel, name, err))
		}
	}
}

// setTimes sets atime and mtime to the nanosecond (an unrecorded atime
// takes the mtime).
func (w *guestWriter) setTimes(t target, rel string, e guest.Entry) error {
	at := e.Atime
	if at.IsZero() {
		at = e.ModTime
	}
	ts := []unix.Timespec{{Sec: at.Unix(), Nsec: int64(at.Nanosecond())},
		{Sec: e.ModTime.Unix(), Nsec: int64(e.ModTime.Nanosecond())}}
	if err := t.times(ts); err != nil {
		return fmt.Errorf("set times of %s beneath %s: %w", rel, w.to, err)
	}
	return nil
}

// reportDropped warns once per kind of privilege left out, with a count.
func (w *guestWriter) reportDropped() {
	d := w.policy.dropped
	const how = " (guest content is untrusted: an admin keeps them with --keep-privileges)"
	if d.setid > 0 {
		w.jc.warn(fmt.Sprintf("dropped the setuid/setgid bits of %d files%s", d.setid, how))
	}
	if d.caps > 0 {
		w.jc.warn(fmt.Sprintf("dropped security.capability of %d files%s", d.caps, how))
	}
	if d.devices > 0 {
		w.jc.warn(fmt.Sprintf("left out %d device nodes%s", d.devices, how))
	}
	if d.owners > 0 && w.policy.root {
		w.jc.warn(fmt.Sprintf("wrote %d entries owned by root instead of their guest owners%s", d.owners, how))
	}
}

// maxConflictsNamed bounds the names a conflict error lists.
const maxConflictsNamed = 5

// refuseConflicts fails, before anything is written, when an entry the
// restore would create already exists beneath the target (or a path to it
// runs through a non-directory or a symlink). Directories on the way to a
// requested path may exist: the restore fills them.
func (w *guestWriter) refuseConflicts(ctx context.Context, sel []selected) error {
	var found []string
	count := 0
	report := func(rel string) {
		if count++; len(found) < maxConflictsNamed {
			found = append(found, rel)
		}
	}
	for _, s := range sel {
		for dir := path.Dir(s.rel); dir != "."; dir = path.Dir(dir) {
			if exists, isDir := w.exists(dir); exists && !isDir {
				report(dir)
			}
		}
		if err := w.walkConflicts(ctx, s.rel, s.e, report); err != nil {
			return err
		}
	}
	if count > 0 {
		return Errf(CodeConflict, "%d entries already exist under %s (%s): nothing was restored; remove them or restore to an empty directory",
			count, w.to, strings.Join(found, ", "))
	}
	return nil
}

// walkConflicts reports rel if it exists and, where it is an existing
// directory, the entries beneath it that exist too.
func (w *guestWriter) walkConflicts(ctx context.Context, rel string, e guest.Entry, report func(string)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rel != "." {
		exists, isDir := w.exists(rel)
		if !exists {
			return nil
		}
		report(rel)
		if !isDir || !e.Mode.IsDir() {
			return nil
		}
	}
	if !e.Mode.IsDir() {
		return nil
	}
	ents, err := w.fsys.ReadDir(rel)
	if err != nil {
		return nil // restored as a warning later
	}
	for _, c := range ents {
		if err := w.walkConflicts(ctx, path.Join(rel, c.Name), c, report); err != nil {
			return err
		}
	}
	return nil
}

// exists looks rel up beneath the target without following symlinks; a
// path that cannot be resolved that way counts as an existing non-directory.
func (w *guestWriter) exists(rel string) (exists, isDir bool) {
	fd, err := unix.Openat2(w.root, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: beneath})
	if errors.Is(err, unix.ENOENT) {
		return false, false
	}
	if err != nil {
		return true, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return true, false
	}
	return true, st.Mode&unix.S_IFMT == unix.S_IFDIR
}
