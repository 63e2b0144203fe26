package vmdisk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/rewind-backup/rewind/blockstore"
)

const (
	imageBlockCache = 6  // blocks kept (24 MiB)
	imagePageCache  = 16 // map pages kept (8 MiB)
)

// Image is random read access to a disk point: zero blocks read as zeros
// without a fetch, a few recent blocks are cached, and sequential access
// reads the next block ahead. Safe for concurrent ReadAt.
type Image struct {
	r      ChunkReader
	m      *mapRoot
	nblks  int64
	ctx    context.Context
	cancel context.CancelFunc
	last   atomic.Int64 // last block read, for sequential detection

	mu     sync.Mutex
	pages  map[int64][]blockstore.ID
	blocks map[int64]*cachedBlock
	tick   uint64
}

type cachedBlock struct {
	ready chan struct{}
	data  []byte
	err   error
	used  uint64
}

// OpenImage opens the disk point root for reading. Close stops read-ahead.
func OpenImage(ctx context.Context, r ChunkReader, root blockstore.ID) (*Image, error) {
	m, err := loadRoot(ctx, r, root)
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	img := &Image{r: r, m: m, nblks: blocksFor(m.size), ctx: bctx, cancel: cancel,
		pages: map[int64][]blockstore.ID{}, blocks: map[int64]*cachedBlock{}}
	img.last.Store(-2)
	return img, nil
}

// Size is the disk size in bytes.
func (img *Image) Size() int64 { return img.m.size }

// SourceState is the source state recorded with the point.
func (img *Image) SourceState() string { return img.m.state }

// Close stops read-ahead and drops the cache.
func (img *Image) Close() error { img.cancel(); return nil }

// ReadAt implements io.ReaderAt.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("disk image: negative offset %d", off)
	}
	if off >= img.m.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), img.m.size-off))
	for done := 0; done < n; {
		pos := off + int64(done)
		b := pos / BlockSize
		data, err := img.block(img.ctx, b)
		if err != nil {
			return done, err
		}
		in := pos - b*BlockSize
		k := min(n-done, int(int64(blockLen(img.m.size, b))-in))
		if data == nil {
			clear(p[done : done+k])
		} else {
			copy(p[done:done+k], data[in:])
		}
		done += k
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// block returns block b's data, nil for a zero block.
func (img *Image) block(ctx context.Context, b int64) ([]byte, error) {
	id, err := img.entry(ctx, b)
	if err != nil || id == zeroID {
		return nil, err
	}
	if prev := img.last.Swap(b); prev == b-1 && b+1 < img.nblks {
		go img.prefetch(b + 1)
	}
	return img.fetch(ctx, b, id)
}

func (img *Image) prefetch(b int64) {
	if id, err := img.entry(img.ctx, b); err == nil && id != zeroID {
		img.fetch(img.ctx, b, id)
	}
}

// fetch returns block b from the cache or the store; concurrent callers of
// one block share a single fetch.
func (img *Image) fetch(ctx context.Context, b int64, id blockstore.ID) ([]byte, error) {
	img.mu.Lock()
	img.tick++
	c, ok := img.blocks[b]
	if !ok {
		c = &cachedBlock{ready: make(chan struct{})}
		img.evictLocked()
		img.blocks[b] = c
	}
	c.used = img.tick
	img.mu.Unlock()
	if ok {
		select {
		case <-c.ready:
			return c.data, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c.data, c.err = img.load(ctx, b, id)
	if c.err != nil {
		img.mu.Lock()
		delete(img.blocks, b)
		img.mu.Unlock()
	}
	close(c.ready)
	return c.data, c.err
}

// evictLocked drops the least recently used finished block when full.
func (img *Image) evictLocked() {
	if len(img.blocks) < imageBlockCache {
		return
	}
	victim, oldest := int64(-1), ^uint64(0)
	for k, c := range img.blocks {
		select {
		case <-c.ready:
			if c.used < oldest {
				victim, oldest = k, c.used
			}
		default:
		}
	}
	if victim >= 0 {
		delete(img.blocks, victim)
	}
}

func (img *Image) load(ctx context.Context, b int64, id blockstore.ID) ([]byte, error) {
	data, err := img.r.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("disk image block %d: %w", b, err)
	}
	if len(data) != blockLen(img.m.size, b) {
		return nil, fmt.Errorf("disk image block %d: chunk %s holds %d bytes, want %d: %w",
			b, id, len(data), blockLen(img.m.size, b), blockstore.ErrCorruption)
	}
	return data, nil
}

// entry returns block b's map entry, caching pages.
func (img *Image) entry(ctx context.Context, b int64) (blockstore.ID, error) {
	p := b / PageEntries
	img.mu.Lock()
	ids, ok := img.pages[p]
	img.mu.Unlock()
	if !ok {
		var err error
		if ids, err = loadPage(ctx, img.r, img.m, p); err != nil {
			return zeroID, err
		}
		img.mu.Lock()
		if len(img.pages) >= imagePageCache {
			clear(img.pages)
		}
		img.pages[p] = ids
		img.mu.Unlock()
	}
	return ids[b%PageEntries], nil
}

var errNoHasher = errors.New("verify needs a chunk reader that can compute chunk ids (ChunkID)")
