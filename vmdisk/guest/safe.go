package guest

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// section is a bounds-checked window [off, off+size) of an io.ReaderAt. Reads
// that start outside it return io.EOF; reads that cross its end are cut short.
type section struct {
	r    io.ReaderAt
	off  int64
	size int64
}

func newSection(r io.ReaderAt, off, size int64) *section {
	if s, ok := r.(*section); ok { // flatten nested windows
		return &section{r: s.r, off: s.off + off, size: size}
	}
	return &section{r: r, off: off, size: size}
}

func (s *section) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= s.size {
		return 0, io.EOF
	}
	short := false
	if rem := s.size - off; int64(len(p)) > rem {
		p = p[:rem]
		short = true
	}
	n, err := s.r.ReadAt(p, s.off+off)
	if err == nil && short {
		err = io.EOF
	}
	if err == io.EOF && n == len(p) && !short {
		err = nil
	}
	return n, err
}

// readFull reads exactly len(p) bytes at off or fails; a short read is
// reported as corruption (a structure points past the end of its volume).
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return corruptf("read of %d bytes at %d runs past the end of the volume", len(p), off)
	}
	return err
}

// readAt allocates and reads n bytes at off, refusing absurd sizes.
func readAt(r io.ReaderAt, n int, off int64) ([]byte, error) {
	if n < 0 || n > maxAlloc {
		return nil, corruptf("structure of %d bytes at %d is too large", n, off)
	}
	b := make([]byte, n)
	return b, readFull(r, b, off)
}

// Limits on anything sized by on-disk data.
const (
	maxAlloc      = 64 << 20  // one structure read into memory
	maxDirEntries = 1 << 20   // entries in one directory
	maxExtents    = 1 << 20   // extents (runs) of one file
	maxSymlink    = 4096      // symlink target length
	maxDirBytes   = 256 << 20 // mapped bytes of one directory
	maxTreeNodes  = 1 << 16   // index blocks read for one file's extent tree
)

// guardTimeouts counts calls abandoned by guard (tests check it stays 0).
var guardTimeouts atomic.Int64

// libTimeout bounds one call into a third-party parser.
var libTimeout = 30 * time.Second

// guard runs fn, turning a panic into an ErrCorrupt error and giving up after
// libTimeout or when ctx ends. It is used around third-party parsers. On a
// timeout the goroutine is left running (it cannot be stopped) but its result
// is ignored; its memory is bounded by the library's own reads of a bounded
// section.
func guard[T any](ctx context.Context, what string, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var res result
		defer func() {
			if p := recover(); p != nil {
				res.err = corruptf("%s: parser panic: %v\n%s", what, p, firstLines(debug.Stack(), 12))
			}
			ch <- res
		}()
		res.v, res.err = fn()
	}()
	t := time.NewTimer(libTimeout)
	defer t.Stop()
	var zero T
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return zero, fmt.Errorf("%s: %w", what, ctx.Err())
	case <-t.C:
		guardTimeouts.Add(1)
		return zero, corruptf("%s: gave up after %s", what, libTimeout)
	}
}

// recoverInto turns a panic in our own parsers into an ErrCorrupt error. It
// is a last line of defence; the parsers check bounds themselves.
func recoverInto(err *error, what string) {
	if p := recover(); p != nil {
		*err = corruptf("%s: %v", what, p)
	}
}

func firstLines(b []byte, n int) string {
	for i, c := range b {
		if c == '\n' {
			n--
			if n == 0 {
				return string(b[:i])
			}
		}
	}
	return string(b)
}
