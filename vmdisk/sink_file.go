package vmdisk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// fileSink writes a raw file or a block device.
type fileSink struct {
	f      *os.File
	path   string
	fresh  bool // created by us: zero blocks are already holes
	device bool
}

func openFileSink(path string, size int64) (*fileSink, error) {
	return openTargetSink(path, size, RestoreOptions{Force: true})
}

// openTargetSink creates path, or opens it when it exists: an existing
// non-empty file or a device holding a signature needs opts.Force.
func openTargetSink(path string, size int64, opts RestoreOptions) (*fileSink, error) {
	open := opts.Open
	if open == nil {
		open = func(flags int, perm uint32) (*os.File, error) { return os.OpenFile(path, flags, os.FileMode(perm)) }
	}
	f, err := open(os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		if err := f.Truncate(size); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("size new restore target %s: %w", path, err)
		}
		return &fileSink{f: f, path: path, fresh: true}, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create restore target: %w", err)
	}
	f, err = open(os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open restore target: %w", err)
	}
	s, err := existingSink(f, path, size, opts.Force)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("restore target %s: %w", path, err)
	}
	return s, nil
}

func existingSink(f *os.File, path string, size int64, force bool) (*fileSink, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !force {
		if err := refuseOverwrite(f, st); err != nil {
			return nil, err
		}
	}
	s := &fileSink{f: f, path: path, device: st.Mode()&os.ModeDevice != 0}
	if !s.device {
		return s, f.Truncate(size)
	}
	if devSize, serr := f.Seek(0, io.SeekEnd); serr != nil || devSize < size {
		return nil, fmt.Errorf("device %s holds %d bytes, the disk needs %d: use a larger device", path, devSize, size)
	}
	return s, nil
}

// refuseOverwrite refuses a non-empty regular file and a device whose first
// sectors hold a partition table or a file-system signature.
func refuseOverwrite(f *os.File, st os.FileInfo) error {
	switch {
	case st.Mode().IsRegular() && st.Size() > 0:
		return fmt.Errorf("it exists and holds %d bytes: pass --force to overwrite it, or restore to a new file", st.Size())
	case st.Mode()&os.ModeDevice != 0:
		if sig := Signature(f); sig != "" {
			return fmt.Errorf("the device holds %s: pass --force to overwrite it, or restore to a blank device", sig)
		}
	case !st.Mode().IsRegular():
		return fmt.Errorf("it is not a regular file or block device (%s)", st.Mode().Type())
	}
	return nil
}

// WriteAt writes p at off; into a file it created it skips all-zero 4 KiB
// pages so they stay holes.
func (s *fileSink) WriteAt(ctx context.Context, p []byte, off int64) error {
	if !s.fresh {
		return s.write(p, off)
	}
	for i := 0; i < len(p); {
		for i < len(p) && isZero(p[i:min(i+4096, len(p))]) {
			i += 4096
		}
		j := i
		for j < len(p) && !isZero(p[j:min(j+4096, len(p))]) {
			j += 4096
		}
		if j > i {
			if err := s.write(p[i:min(j, len(p))], off+int64(i)); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// Hole reports whether [off, off+n) is known to be a hole (reads as zeros).
func (s *fileSink) Hole(off, n int64) bool {
	if s.device {
		return false
	}
	data, err := seekData(int(s.f.Fd()), off, off+n)
	return err == nil && len(data) == 0
}

func (s *fileSink) write(p []byte, off int64) error {
	if _, err := s.f.WriteAt(p, off); err != nil {
		return fmt.Errorf("write %s at %d: %w", s.path, off, err)
	}
	return nil
}

func (s *fileSink) Zero(ctx context.Context, off, n int64) error {
	if s.fresh {
		return nil
	}
	if !s.device {
		err := unix.Fallocate(int(s.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
		if err == nil {
			return nil
		}
	}
	return s.WriteAt(ctx, zeroBlock[:n], off)
}

func (s *fileSink) ReadAt(ctx context.Context, p []byte, off int64) error {
	if _, err := s.f.ReadAt(p, off); err != nil {
		return fmt.Errorf("read back %s at %d: %w", s.path, off, err)
	}
	return nil
}

// Sync makes the writes durable and drops them from the page cache, so a
// verify reads what the disk holds.
func (s *fileSink) Sync(ctx context.Context) error {
	if err := s.f.Sync(); err != nil {
		return err
	}
	unix.Fadvise(int(s.f.Fd()), 0, 0, unix.FADV_DONTNEED)
	return nil
}
func (s *fileSink) Close() error { return s.f.Close() }

// discard empties a file this restore created and removes its name, after a
// failed restore: a full-size image with zeros where data could not be read
// must not be left to look like a disk. The name is removed only while it
// still is this file (dir: the target's directory as the caller opened it,
// nil: by path).
func (s *fileSink) discard(dir *os.File) error {
	if err := s.f.Truncate(0); err != nil {
		return err
	}
	var mine, named unix.Stat_t
	if err := unix.Fstat(int(s.f.Fd()), &mine); err != nil {
		return err
	}
	dfd, name := unix.AT_FDCWD, s.path
	if dir != nil {
		dfd, name = int(dir.Fd()), filepath.Base(s.path)
	}
	if err := unix.Fstatat(dfd, name, &named, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if named.Dev != mine.Dev || named.Ino != mine.Ino {
		return fmt.Errorf("%s is no longer the file this restore created: left in place", s.path)
	}
	return unix.Unlinkat(dfd, name, 0)
}

// checkTarget refuses the original source without Force and any existing
// file or device another process holds open.
func checkTarget(target string, opts RestoreOptions) error {
	if sourceKind(target) == "nbd" {
		if target == opts.OriginalSource && !opts.Force {
			return fmt.Errorf("restore target %s is the item's original source: pass --force to overwrite it", target)
		}
		return nil
	}
	st, err := os.Stat(target)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore target: %w", err)
	}
	if orig := originalPath(opts.OriginalSource); orig != "" && !opts.Force {
		if ost, err := os.Stat(orig); err == nil && os.SameFile(st, ost) {
			return fmt.Errorf("restore target %s is the item's original source: pass --force to overwrite it", target)
		}
	}
	if pid := holder(st); pid != "" {
		return fmt.Errorf("restore target %s is open in process %s: stop it (shut the VM down) and retry", target, pid)
	}
	return nil
}

// originalPath is the local path of a source spec, "" for NBD.
func originalPath(spec string) string {
	switch sourceKind(spec) {
	case "nbd":
		return ""
	case "qcow2":
		return strings.TrimPrefix(spec, "qcow2:")
	}
	return spec
}

// holder returns the pid of a process that has the file open, scanning
// /proc/*/fd, or "" when none is found.
func holder(st os.FileInfo) string {
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	self := fmt.Sprint(os.Getpid())
	for _, fd := range fds {
		pid := strings.Split(fd, "/")[2]
		if pid == self {
			continue
		}
		if fst, err := os.Stat(fd); err == nil && os.SameFile(st, fst) {
			return pid
		}
	}
	return ""
}
