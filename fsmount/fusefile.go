package fsmount

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Read-ahead: when a handle is read sequentially, a background goroutine
// touches the next raWindow bytes with 1-byte reads every raStride bytes, so
// the chunks holding them are fetched and decoded into the shared chunk
// cache before the kernel asks for them.
const (
	raWindow   = 8 << 20
	raStride   = 256 << 10
	raParallel = 2
)

// fileNode serves a File.
type fileNode struct {
	node
	file File
}

var (
	_ = (fs.NodeOpener)((*fileNode)(nil))
	_ = (fs.NodeReader)((*fileNode)(nil))
	_ = (fs.NodeLseeker)((*fileNode)(nil))
	_ = (fs.NodeReleaser)((*fileNode)(nil))
)

// Open refuses every write-type open and gives a handle with its own reader.
func (f *fileNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&(syscall.O_WRONLY|syscall.O_RDWR|syscall.O_TRUNC) != 0 {
		return nil, 0, syscall.EROFS
	}
	r, err := f.file.Open(f.m.ctx)
	if err != nil {
		return nil, 0, f.m.errno("open", "", err)
	}
	return &fileHandle{r: r, size: max(f.n.Attr().Size, 0)}, fuse.FOPEN_KEEP_CACHE, 0
}

// fileHandle is one open file.
type fileHandle struct {
	r       Reader
	size    int64
	nextOff atomic.Int64 // where a sequential reader reads next
	raUntil atomic.Int64 // read-ahead has covered [.., raUntil)
	raBusy  atomic.Bool
}

// Read fills dest from off with ReadAt; no lock is held.
func (f *fileNode) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h, ok := fh.(*fileHandle)
	if !ok {
		return nil, syscall.EBADF
	}
	if off >= h.size {
		return fuse.ReadResultData(nil), 0
	}
	want := int(min(int64(len(dest)), h.size-off))
	n, err := h.r.ReadAt(dest[:want], off)
	if err != nil && !errors.Is(err, io.EOF) { // EOF: the content is shorter than its recorded size
		return nil, f.m.errno("read", "", err)
	}
	h.readAhead(f.m.ctx, off, int64(n))
	return fuse.ReadResultData(dest[:n]), 0
}

// readAhead starts one background warm-up per handle when reads are
// sequential and the window ahead is not covered yet.
func (h *fileHandle) readAhead(ctx context.Context, off, n int64) {
	end := off + n
	seq := h.nextOff.Swap(end) == off || off == 0
	if !seq || end >= h.size || h.raUntil.Load() >= end+raWindow/2 {
		return
	}
	if !h.raBusy.CompareAndSwap(false, true) {
		return
	}
	from := max(end, h.raUntil.Load())
	to := min(end+raWindow, h.size)
	go h.warm(ctx, from, to)
}

// warm touches [from, to) with raParallel workers, so that chunks of the
// window are fetched and decoded in parallel (the cache fetches each once).
func (h *fileHandle) warm(ctx context.Context, from, to int64) {
	defer h.raBusy.Store(false)
	var next atomic.Int64
	next.Store(from)
	var wg sync.WaitGroup
	for range raParallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { recover() }() // the real read reports what went wrong
			var b [1]byte
			for p := next.Add(raStride) - raStride; p < to && ctx.Err() == nil; p = next.Add(raStride) - raStride {
				if _, err := h.r.ReadAt(b[:], p); err != nil {
					return // the real read will report it
				}
			}
		}()
	}
	wg.Wait()
	h.raUntil.Store(to)
}

// Lseek answers SEEK_DATA and SEEK_HOLE from the reader's sparse map; a
// reader without one is all data.
func (f *fileNode) Lseek(ctx context.Context, fh fs.FileHandle, off uint64, whence uint32) (uint64, syscall.Errno) {
	h, ok := fh.(*fileHandle)
	if !ok {
		return 0, syscall.EBADF
	}
	o := int64(off)
	if o >= h.size {
		return 0, syscall.ENXIO
	}
	hf, sparse := h.r.(HoleFinder)
	var r int64
	var err error
	switch {
	case whence == seekData && sparse:
		r, err = hf.NextData(ctx, o)
	case whence == seekData:
		r = o
	case whence == seekHole && sparse:
		r, err = hf.NextHole(ctx, o)
	case whence == seekHole:
		r = h.size
	default:
		return 0, syscall.EINVAL
	}
	if err != nil {
		return 0, f.m.errno("lseek", "", err)
	}
	if r < 0 || r > h.size || (whence == seekData && r == h.size) {
		return 0, syscall.ENXIO
	}
	return uint64(r), 0
}

const (
	seekData = 3 // SEEK_DATA
	seekHole = 4 // SEEK_HOLE
)

// Release closes the reader if it holds resources.
func (f *fileNode) Release(ctx context.Context, fh fs.FileHandle) syscall.Errno {
	if h, ok := fh.(*fileHandle); ok {
		if c, ok := h.r.(io.Closer); ok {
			c.Close()
		}
	}
	return 0
}
