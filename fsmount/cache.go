package fsmount

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rewind-backup/rewind/blockstore"
)

// DefaultCacheBytes caps the decoded-chunk cache shared by every open file of
// a mount.
const DefaultCacheBytes = 128 << 20

// ChunkCache is a ChunkReader that keeps recently used decoded chunks (LRU,
// bounded in bytes) and fetches each missing chunk once however many readers
// ask for it at the same time. Safe for concurrent use.
type ChunkCache struct {
	r   ChunkReader
	max int64

	mu       sync.Mutex
	size     int64
	lru      *list.List // of *cached, front = most recent
	byID     map[blockstore.ID]*list.Element
	inflight map[blockstore.ID]*fetch

	hits, misses atomic.Int64
}

type cached struct {
	id   blockstore.ID
	data []byte
}

type fetch struct {
	done chan struct{}
	data []byte
	err  error
}

// CacheStats counts lookups: Hits served from memory, Fetches that went to the
// underlying reader (concurrent misses of one chunk count once).
type CacheStats struct {
	Hits, Fetches int64
	Bytes         int64
}

// NewChunkCache wraps r; maxBytes <= 0 means DefaultCacheBytes.
func NewChunkCache(r ChunkReader, maxBytes int64) *ChunkCache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &ChunkCache{
		r: r, max: maxBytes, lru: list.New(),
		byID:     map[blockstore.ID]*list.Element{},
		inflight: map[blockstore.ID]*fetch{},
	}
}

// Get returns the chunk's plaintext. The slice is shared: never modify it.
func (c *ChunkCache) Get(ctx context.Context, id blockstore.ID) ([]byte, error) {
	c.mu.Lock()
	if e, ok := c.byID[id]; ok {
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		c.hits.Add(1)
		return e.Value.(*cached).data, nil
	}
	f, ok := c.inflight[id]
	if !ok {
		f = &fetch{done: make(chan struct{})}
		c.inflight[id] = f
		c.misses.Add(1)
		// The fetch outlives a cancelled caller: others may be waiting on it.
		go c.run(context.WithoutCancel(ctx), id, f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.data, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *ChunkCache) run(ctx context.Context, id blockstore.ID, f *fetch) {
	f.data, f.err = c.get(ctx, id)
	c.mu.Lock()
	delete(c.inflight, id)
	if f.err == nil {
		c.add(id, f.data)
	}
	c.mu.Unlock()
	close(f.done)
}

// get fetches from the underlying reader; a panic there (bad data reaching
// a decoder) becomes an error instead of ending the process.
func (c *ChunkCache) get(ctx context.Context, id blockstore.ID) (data []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			data, err = nil, fmt.Errorf("chunk %s: panic while reading: %v", id, v)
		}
	}()
	return c.r.Get(ctx, id)
}

// add inserts under c.mu and evicts from the back until under the cap.
func (c *ChunkCache) add(id blockstore.ID, data []byte) {
	if int64(len(data)) > c.max {
		return
	}
	c.byID[id] = c.lru.PushFront(&cached{id: id, data: data})
	c.size += int64(len(data))
	for c.size > c.max {
		e := c.lru.Back()
		old := c.lru.Remove(e).(*cached)
		delete(c.byID, old.id)
		c.size -= int64(len(old.data))
	}
}

// Stats returns the counters so far.
func (c *ChunkCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Fetches: c.misses.Load(), Bytes: c.size}
}
