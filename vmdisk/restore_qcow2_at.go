package vmdisk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// restoreQcow2At is restoreQcow2 through opts.Dir: the raw image and the
// qcow2 are made in a private directory (0700, ours) created inside it, and
// qemu-img reaches them through /proc/<pid>/fd/<private dir>, a path no
// rename or symlink in target's directory can redirect. The image is then
// renamed into place through the descriptors (never over an existing entry
// without Force).
func restoreQcow2At(ctx context.Context, r ChunkReader, m *mapRoot, target string, opts RestoreOptions) (*RestoreResult, error) {
	dirfd, name := int(opts.Dir.Fd()), filepath.Base(target)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && !opts.Force {
		return nil, fmt.Errorf("restore target %s exists: pass --force to replace it with a new qcow2 image", target)
	}
	if err := checkTarget(target, opts); err != nil {
		return nil, err
	}
	priv, err := newPrivateDir(dirfd, name)
	if err != nil {
		return nil, fmt.Errorf("restore to %s: %w", target, err)
	}
	defer priv.remove()
	res, err := priv.restore(ctx, r, m, opts)
	if err != nil {
		return nil, fmt.Errorf("restore to %s: %w", target, err)
	}
	flags := uint(unix.RENAME_NOREPLACE)
	if opts.Force {
		flags = 0
	}
	if err := unix.Renameat2(priv.fd, "out.qcow2", dirfd, name, flags); err != nil {
		return nil, fmt.Errorf("move the new image to %s: %w", target, err)
	}
	return res, nil
}

// privateDir is a directory this restore made (0700) inside the target's.
type privateDir struct {
	parent int
	name   string
	fd     int
	ino    uint64
}

func newPrivateDir(parent int, base string) (*privateDir, error) {
	rnd := make([]byte, 6)
	rand.Read(rnd)
	name := "." + base + ".rewind-restore-" + hex.EncodeToString(rnd)
	if err := unix.Mkdirat(parent, name, 0o700); err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	fd, err := unix.Openat(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
		return nil, fmt.Errorf("open work directory: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Uid != uint32(os.Geteuid()) || st.Mode&0o077 != 0 {
		unix.Close(fd)
		return nil, errors.New("work directory is not private: retry")
	}
	return &privateDir{parent: parent, name: name, fd: fd, ino: st.Ino}, nil
}

// path names entry inside the directory through this process's descriptor.
func (p *privateDir) path(entry string) string {
	return fmt.Sprintf("/proc/%d/fd/%d/%s", os.Getpid(), p.fd, entry)
}

func (p *privateDir) restore(ctx context.Context, r ChunkReader, m *mapRoot, opts RestoreOptions) (*RestoreResult, error) {
	s, err := openFileSink(p.path("raw"), m.size)
	if err != nil {
		return nil, err
	}
	res, err := restoreTo(ctx, r, m, s, opts)
	s.Close()
	if err != nil {
		return nil, err
	}
	if _, err := qemuImg(ctx, "convert", "-f", "raw", "-O", "qcow2", p.path("raw"), p.path("out.qcow2")); err != nil {
		return nil, err
	}
	if opts.Verify {
		if _, err := qemuImg(ctx, "compare", "-q", "-f", "raw", "-F", "qcow2", p.path("raw"), p.path("out.qcow2")); err != nil {
			return nil, fmt.Errorf("verify against the point: %w", err)
		}
	}
	return res, nil
}

// remove deletes what this restore made: its two files, then the
// directory — only while the name still denotes it.
func (p *privateDir) remove() {
	unix.Unlinkat(p.fd, "raw", 0)
	unix.Unlinkat(p.fd, "out.qcow2", 0)
	var st unix.Stat_t
	if unix.Fstatat(p.parent, p.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Ino == p.ino {
		unix.Unlinkat(p.parent, p.name, unix.AT_REMOVEDIR)
	}
	unix.Close(p.fd)
}
