package vmdisk

import (
	"context"
	"fmt"
)

// nbdSink restores into an NBD export through the same client.
type nbdSink struct{ c *nbdClient }

func openNBDSink(ctx context.Context, target string, size int64) (sink, error) {
	c, err := dialNBD(ctx, target, nil)
	if err != nil {
		return nil, err
	}
	if c.tflags&nbdTFlagReadOnly != 0 {
		c.Close()
		return nil, fmt.Errorf("NBD export %s is read-only: export it writable (e.g. qemu-nbd without -r)", c.addr)
	}
	if c.size < size {
		c.Close()
		return nil, fmt.Errorf("NBD export %s holds %d bytes, the disk needs %d: grow the export", c.addr, c.size, size)
	}
	return &nbdSink{c: c}, nil
}

func (s *nbdSink) WriteAt(ctx context.Context, p []byte, off int64) error {
	for len(p) > 0 {
		n := min(len(p), 4<<20)
		if err := s.c.Write(ctx, p[:n], off); err != nil {
			return err
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

func (s *nbdSink) Zero(ctx context.Context, off, n int64) error {
	if s.c.tflags&nbdTFlagWriteZeroes != 0 {
		return s.c.WriteZeroes(ctx, off, int(n))
	}
	return s.WriteAt(ctx, zeroBlock[:n], off)
}

func (s *nbdSink) ReadAt(ctx context.Context, p []byte, off int64) error {
	return s.c.Read(ctx, p, off)
}
func (s *nbdSink) Sync(ctx context.Context) error { return s.c.Flush(ctx) }
func (s *nbdSink) Close() error                   { return s.c.Close() }
