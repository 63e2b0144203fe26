package fileshare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// worker reads queued files until the queue closes.
func (b *backup) worker(ctx context.Context) error {
	fr := &fileReader{b: b, ch: newChunker(nil)}
	for j := range b.jobs {
		err := fr.read(ctx, j)
		j.f.Close()
		close(j.pe.done)
		if err != nil {
			return err
		}
	}
	return nil
}

// fileReader is one worker's state: its chunker buffer is reused.
type fileReader struct {
	b  *backup
	ch *chunker
}

// read captures j's contents. A file that changes while being read (size,
// mtime or ctime differ before and after) is read once more, then recorded
// with a warning. Read errors skip the file with a warning.
func (r *fileReader) read(ctx context.Context, j *fileJob) error {
	for attempt := 0; ; attempt++ {
		var before, after unix.Stat_t
		if err := unix.Fstat(int(j.f.Fd()), &before); err != nil {
			return r.skip(ctx, j, err)
		}
		if before.Mode&unix.S_IFMT != unix.S_IFREG {
			return r.skip(ctx, j, errors.New("replaced by something that is not a regular file"))
		}
		d, err := r.contents(ctx, j.f, before.Size)
		if err != nil {
			return r.skip(ctx, j, err)
		}
		if r.b.opts.testHookRead != nil {
			r.b.opts.testHookRead(j.path)
		}
		if err := unix.Fstat(int(j.f.Fd()), &after); err != nil {
			return r.skip(ctx, j, err)
		}
		stable := sameContent(&before, &after)
		if stable || attempt == 1 {
			if !stable {
				r.b.warn("%s: changed while being read (twice); recorded as last read, may be inconsistent", showPath(j.path))
			}
			r.record(j.pe.n, &before, d)
			return nil
		}
	}
}

func sameContent(a, b *unix.Stat_t) bool {
	return a.Size == b.Size && a.Mtim == b.Mtim && a.Ctim == b.Ctim && a.Ino == b.Ino
}

func (r *fileReader) record(n *Node, st *unix.Stat_t, d *fileData) {
	full := nodeFromStat(n.Name, st)
	n.Mtime, n.Ctime, n.dev, n.ino = full.Mtime, full.Ctime, full.dev, full.ino
	n.Size = d.size
	n.inline, n.extents, n.lists = d.inline, d.extents, d.lists
	r.b.filesRead.Add(1)
}

func (r *fileReader) skip(ctx context.Context, j *fileJob, err error) error {
	if isFatal(ctx, err) {
		return err
	}
	j.pe.skip = true
	r.b.warn("%s: unreadable, not backed up: %v", showPath(j.path), err)
	return nil
}

// fileData is what reading a file produced.
type fileData struct {
	size    int64
	inline  []byte
	extents []Extent
	lists   []listRef
}

// contents reads the data regions of f (up to size bytes) and stores them.
func (r *fileReader) contents(ctx context.Context, f *os.File, size int64) (*fileData, error) {
	if size <= inlineMax {
		return r.small(ctx, f, size)
	}
	d := &fileData{}
	var pos int64
	for pos < size {
		start, end, err := nextData(int(f.Fd()), pos, size)
		if err != nil {
			return nil, err
		}
		if start >= end {
			break
		}
		n, err := r.region(ctx, f, d, start, end)
		if err != nil {
			return nil, err
		}
		if n < end-start { // file shrank
			d.size = start + n
			return d, r.finishLists(ctx, d)
		}
		pos = end
	}
	d.size = size
	return d, r.finishLists(ctx, d)
}

func (r *fileReader) small(ctx context.Context, f *os.File, size int64) (*fileData, error) {
	buf := make([]byte, size)
	if err := r.wait(ctx, int(size)); err != nil {
		return nil, err
	}
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	r.b.bytesRead.Add(int64(n))
	return &fileData{size: int64(n), inline: buf[:n]}, nil
}

// nextData finds the first data region at or after pos (SEEK_DATA /
// SEEK_HOLE), clipped to size; a file system without them is all data.
func nextData(fd int, pos, size int64) (int64, int64, error) {
	start, err := unix.Seek(fd, pos, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return size, size, nil // only a hole from pos to the end
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
		return pos, size, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("seek data: %w", err)
	}
	end, err := unix.Seek(fd, start, unix.SEEK_HOLE)
	if err != nil {
		return 0, 0, fmt.Errorf("seek hole: %w", err)
	}
	return min(start, size), min(end, size), nil
}

// region chunks and stores [start,end) of f; it returns the bytes read.
func (r *fileReader) region(ctx context.Context, f *os.File, d *fileData, start, end int64) (int64, error) {
	r.ch.reset(&limitedReader{ctx: ctx, r: io.NewSectionReader(f, start, end-start), lim: r.b.opts.Limiter})
	add := func(x Extent) error { return r.addExtent(ctx, d, x) }
	var w window
	off := start
	for {
		c, err := r.ch.next()
		if err == io.EOF {
			return off - start, w.drain(add)
		}
		if err == nil {
			r.b.bytesRead.Add(int64(len(c)))
			err = w.send(ctx, r.b, off, c, add)
		}
		if err != nil {
			w.abandon()
			return 0, err
		}
		off += int64(len(c))
	}
}

func (r *fileReader) wait(ctx context.Context, n int) error {
	if r.b.opts.Limiter == nil {
		return ctx.Err()
	}
	for n > 0 {
		k := min(n, limiterStep)
		if err := r.b.opts.Limiter.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

const limiterStep = 64 << 10

// limitedReader throttles reads through a Limiter and stops on cancellation.
type limitedReader struct {
	ctx context.Context
	r   io.Reader
	lim Limiter
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	if l.lim != nil {
		if len(p) > limiterStep {
			p = p[:limiterStep]
		}
		if err := l.lim.WaitN(l.ctx, len(p)); err != nil {
			return 0, err
		}
	}
	return l.r.Read(p)
}
