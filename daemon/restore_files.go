package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/pathsafe"
	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// restoreDiskFiles copies files or folders out of a volume of a disk point
// into req.To, keeping modes, times and (as root) owners. Nothing is ever
// written outside req.To: every path is resolved beneath it with
// RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, and entries are created, never opened
// through a symlink.
func restoreDiskFiles(ctx context.Context, jc *jobCtx, v *vault.Vault, p vault.Point, req RestoreRequest, tg *pathsafe.Target) error {
	img, err := vmdisk.OpenImage(ctx, v.Store(), p.Root)
	if err != nil {
		return err
	}
	fsys, err := openVolume(ctx, img, img.Size(), req.Volume)
	if err != nil {
		return err
	}
	dir, err := openTargetDir(tg)
	if err != nil {
		return err
	}
	cp := newCopier(dir, fsys, jc)
	defer cp.close()
	for _, p := range req.Paths {
		if err := cp.copyPath(ctx, p); err != nil {
			return err
		}
	}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("files → %s: %d entries, %d bytes", req.To, cp.files, cp.bytes)
	})
	return nil
}

// openVolume picks the volume named by sel ("1", "vg0-root"), or the only
// readable one when sel is empty.
func openVolume(ctx context.Context, disk io.ReaderAt, size int64, sel string) (guest.FS, error) {
	layout, err := guest.Probe(ctx, disk, size)
	if err != nil {
		return nil, err
	}
	var readable []guest.Volume
	for _, vol := range layout.Volumes {
		if vol.FilesDir == "" {
			if vol.Name == sel {
				return nil, Errf(CodeInvalid, "volume %s holds no readable files: %s", sel, vol.Reason)
			}
			continue
		}
		if vol.Name == sel {
			return guest.OpenFS(ctx, vol.Reader, vol.Size, vol.Type)
		}
		readable = append(readable, vol)
	}
	names := make([]string, len(readable))
	for i, vol := range readable {
		names[i] = vol.Name + " (" + vol.Type + ")"
	}
	switch {
	case sel != "":
		return nil, Errf(CodeNotFound, "volume %q not found; readable volumes: %s", sel, strings.Join(names, ", "))
	case len(readable) == 1:
		return guest.OpenFS(ctx, readable[0].Reader, readable[0].Size, readable[0].Type)
	case len(readable) == 0:
		return nil, Errf(CodeInvalid, "this disk point has no volume whose files can be read")
	}
	return nil, Errf(CodeInvalid, "the disk has several volumes: pass --volume (one of %s)", strings.Join(names, ", "))
}

// copier writes guest files beneath a root directory descriptor.
type copier struct {
	dir   *os.File
	root  int
	fsys  guest.FS
	jc    *jobCtx
	files int64
	bytes int64
	root0 bool
}

// newCopier copies into dir (a target resolved by pathsafe); close closes dir.
func newCopier(dir *os.File, fsys guest.FS, jc *jobCtx) *copier {
	return &copier{dir: dir, root: int(dir.Fd()), fsys: fsys, jc: jc, root0: os.Geteuid() == 0}
}

func (c *copier) close() { c.dir.Close() }

// cleanRel makes a point path relative and refuses one that climbs out.
func cleanRel(p string) (string, error) {
	c := path.Clean("/" + p)
	if strings.Contains(p, "\x00") {
		return "", Errf(CodeInvalid, "path %q holds a NUL byte", p)
	}
	return strings.TrimPrefix(c, "/"), nil
}

func (c *copier) copyPath(ctx context.Context, p string) error {
	rel, err := cleanRel(p)
	if err != nil {
		return err
	}
	if rel == "" {
		rel = "."
	}
	e, err := c.fsys.Stat(rel)
	if err != nil {
		return Errf(CodeNotFound, "path %q is not in this volume: %v", p, err)
	}
	dst := path.Base(rel)
	if rel == "." {
		dst = "."
	}
	return c.copyEntry(ctx, rel, dst, e)
}

func (c *copier) copyEntry(ctx context.Context, src, dst string, e guest.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case e.Mode.IsDir():
		return c.copyDir(ctx, src, dst, e)
	case e.Mode&fs.ModeSymlink != 0:
		return c.copyLink(src, dst, e)
	case e.Mode.IsRegular():
		return c.copyFile(ctx, src, dst, e)
	}
	c.jc.warn(fmt.Sprintf("%s: special file (%s) not restored", src, e.Mode.Type()))
	return nil
}

func (c *copier) copyDir(ctx context.Context, src, dst string, e guest.Entry) error {
	if dst != "." {
		dir, name := c.parent(dst)
		if dir < 0 {
			return fmt.Errorf("create %s: its parent is not a directory beneath the target", dst)
		}
		err := unix.Mkdirat(dir, name, 0o700)
		closeParent(c, dir)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create %s: %w", dst, err)
		}
	}
	entries, err := c.fsys.ReadDir(src)
	if err != nil {
		c.jc.warn(fmt.Sprintf("%s: unreadable directory: %v", src, err))
		return nil
	}
	for _, child := range entries {
		if err := c.copyEntry(ctx, path.Join(src, child.Name), path.Join(dst, child.Name), child); err != nil {
			return err
		}
	}
	return c.setMeta(dst, e, true)
}

func (c *copier) copyLink(src, dst string, e guest.Entry) error {
	target, err := c.fsys.Readlink(src)
	if err != nil {
		c.jc.warn(fmt.Sprintf("%s: unreadable symlink: %v", src, err))
		return nil
	}
	dir, name := c.parent(dst)
	if dir < 0 {
		return fmt.Errorf("create %s: parent escapes the target", dst)
	}
	defer closeParent(c, dir)
	if err := unix.Symlinkat(target, dir, name); err != nil {
		return fmt.Errorf("create symlink %s: %w", dst, err)
	}
	if c.root0 {
		_ = unix.Fchownat(dir, name, int(e.Uid), int(e.Gid), unix.AT_SYMLINK_NOFOLLOW)
	}
	c.files++
	return nil
}

func (c *copier) copyFile(ctx context.Context, src, dst string, e guest.Entry) error {
	in, err := c.fsys.Open(src)
	if err != nil {
		c.jc.warn(fmt.Sprintf("%s: unreadable file: %v", src, err))
		return nil
	}
	fd, err := unix.Openat2(c.root, dst, &unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_CLOEXEC,
		Mode: 0o600, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS})
	if err != nil {
		return fmt.Errorf("create %s: %w (remove it or restore elsewhere)", dst, err)
	}
	out := os.NewFile(uintptr(fd), dst)
	defer out.Close()
	n, err := io.Copy(out, io.NewSectionReader(in, 0, e.Size))
	c.bytes += n
	c.jc.progress(c.bytes, 0)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	c.files++
	return c.setMeta(dst, e, false)
}

// setMeta applies mode, owner and times through a descriptor opened beneath root.
func (c *copier) setMeta(dst string, e guest.Entry, dir bool) error {
	flags := uint64(unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW)
	if dir {
		flags |= unix.O_DIRECTORY
	}
	fd, err := unix.Openat2(c.root, dst, &unix.OpenHow{Flags: flags, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS})
	if err != nil {
		return fmt.Errorf("set attributes of %s: %w", dst, err)
	}
	defer unix.Close(fd)
	if c.root0 {
		_ = unix.Fchown(fd, int(e.Uid), int(e.Gid))
	}
	_ = unix.Fchmod(fd, uint32(e.Mode.Perm())|modeExtra(e.Mode))
	ts := []unix.Timespec{unix.NsecToTimespec(e.ModTime.UnixNano()), unix.NsecToTimespec(e.ModTime.UnixNano())}
	return unix.UtimesNanoAt(fd, "", ts, unix.AT_EMPTY_PATH)
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

// parent opens dst's parent directory beneath root; -1 when that fails.
func (c *copier) parent(dst string) (int, string) {
	dir, name := path.Split(dst)
	if dir == "" {
		return c.root, name
	}
	fd, err := unix.Openat2(c.root, dir, &unix.OpenHow{Flags: unix.O_DIRECTORY | unix.O_RDONLY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS})
	if err != nil {
		return -1, name
	}
	return fd, name
}

func closeParent(c *copier, fd int) {
	if fd != c.root {
		unix.Close(fd)
	}
}
