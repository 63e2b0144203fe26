package vmdisk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// fileSource reads a raw image file or a block device. Files report their
// allocated extents with SEEK_DATA/SEEK_HOLE; devices are read whole.
type fileSource struct {
	f      *os.File
	path   string
	size   int64
	device bool
}

func openFileSource(path string) (*fileSource, error) {
	if isQcow2File(path) {
		return nil, fmt.Errorf("%s is a qcow2 image, not raw: use the source spec %q", path, "qcow2:"+path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open disk source: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat disk source: %w", err)
	}
	s := &fileSource{f: f, path: path, device: st.Mode()&os.ModeDevice != 0}
	if s.size, err = f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("size of disk source %s: %w", path, err)
	}
	if !s.device && !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("disk source %s is neither a regular file nor a block device", path)
	}
	return s, nil
}

func (s *fileSource) Size() int64  { return s.size }
func (s *fileSource) Close() error { return s.f.Close() }

func (s *fileSource) ReadAt(ctx context.Context, p []byte, off int64) error {
	n, err := s.f.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %s at %d (+%d): %w", s.path, off, len(p), err)
}

func (s *fileSource) Data(ctx context.Context, off, n int64) ([]extent, error) {
	if s.device {
		return []extent{{off, n}}, nil
	}
	return seekData(int(s.f.Fd()), off, off+n)
}

// seekData lists data extents in [off, end) with SEEK_DATA/SEEK_HOLE. A file
// system without them reports the whole range as data.
func seekData(fd int, off, end int64) ([]extent, error) {
	var out []extent
	for off < end {
		d, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return []extent{{off, end - off}}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("SEEK_DATA at %d: %w", off, err)
		}
		if d >= end {
			break
		}
		h, err := unix.Seek(fd, d, unix.SEEK_HOLE)
		if err != nil {
			return nil, fmt.Errorf("SEEK_HOLE at %d: %w", d, err)
		}
		h = min(h, end)
		out = append(out, extent{d, h - d})
		off = h
	}
	return out, nil
}
