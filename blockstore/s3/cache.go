package s3

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// CacheBlock is the unit the read cache fetches and keeps: aligned 1 MiB
// ranges of an object, so a restore's sequential small reads cost one GET
// per MiB and a random read never fetches a whole shard.
const CacheBlock = 1 << 20

// Cache is a Target that keeps the blocks it reads in a local directory,
// bounded to a byte size with least-recently-used eviction. Puts and Deletes
// through it drop the object's cached blocks; every block file carries a
// checksum and a bad one is refetched.
type Cache struct {
	inner blockstore.Target
	dir   string
	max   int64

	mu   sync.Mutex
	lru  *list.List               // front: most recently used
	m    map[string]*list.Element // block file name → element (*cached)
	used int64

	hits, misses atomic.Int64
}

type cached struct {
	file     string
	size     int64 // file size: block bytes + 4
	verified bool  // written or checked by this process: read ranges of it directly
}

var _ blockstore.Target = (*Cache)(nil)

// NewCache wraps inner with a read cache in dir/<hash of inner's name>,
// bounded to max bytes. Blocks left by an earlier run are reused.
func NewCache(inner blockstore.Target, dir string, max int64) (*Cache, error) {
	sum := sha256.Sum256([]byte(inner.Name()))
	d := filepath.Join(dir, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, fmt.Errorf("read cache of %s: %w: give cache= a writable directory", inner.Name(), err)
	}
	c := &Cache{inner: inner, dir: d, max: max, lru: list.New(), m: map[string]*list.Element{}}
	if err := c.load(); err != nil {
		return nil, fmt.Errorf("read cache of %s in %s: %w", inner.Name(), d, err)
	}
	return c, nil
}

// Name is the inner target's name.
func (c *Cache) Name() string { return c.inner.Name() }

// Inner returns the wrapped target.
func (c *Cache) Inner() blockstore.Target { return c.inner }

// Unwrap returns the wrapped target (blockstore.Unwrapper): capabilities the
// cache does not intercept are found on it through blockstore.As.
func (c *Cache) Unwrap() blockstore.Target { return c.inner }

// Stats reports block hits and misses since NewCache.
func (c *Cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// Used reports the bytes of block files the cache holds.
func (c *Cache) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Put writes through and drops name's cached blocks.
func (c *Cache) Put(ctx context.Context, name string, data []byte) error {
	c.forget(name)
	return c.inner.Put(ctx, name, data)
}

// Delete deletes through and drops name's cached blocks.
func (c *Cache) Delete(ctx context.Context, name string) error {
	c.forget(name)
	return c.inner.Delete(ctx, name)
}

// Stat asks the inner target (sizes are not cached).
func (c *Cache) Stat(ctx context.Context, name string) (int64, error) { return c.inner.Stat(ctx, name) }

// List asks the inner target.
func (c *Cache) List(ctx context.Context, prefix string, fn func(string, int64) error) error {
	return c.inner.List(ctx, prefix, fn)
}

// ReadAt serves [off, off+len(p)) from cached blocks, fetching missing ones.
func (c *Cache) ReadAt(ctx context.Context, name string, p []byte, off int64) error {
	if len(p) == 0 {
		return c.inner.ReadAt(ctx, name, p, off)
	}
	for pos, end := off, off+int64(len(p)); pos < end; {
		b := pos / CacheBlock
		n, err := c.readBlock(ctx, name, b, p[pos-off:], pos-b*CacheBlock)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%s: read %s at %d+%d: %w", c.Name(), name, off, len(p), io.ErrUnexpectedEOF)
		}
		pos += int64(n)
	}
	return nil
}

// readBlock copies block b of name from at into dst and returns how many
// bytes it copied: 0 when the block ends at or before at.
func (c *Cache) readBlock(ctx context.Context, name string, b int64, dst []byte, at int64) (int, error) {
	f := blockFile(name, b)
	if n, ok := c.readVerified(f, dst, at); ok {
		c.hits.Add(1)
		return n, nil
	}
	blk, err := c.block(ctx, name, f, b)
	if err != nil {
		return 0, err
	}
	if at >= int64(len(blk)) {
		return 0, nil
	}
	return copy(dst, blk[at:]), nil
}

func blockFile(name string, b int64) string {
	sum := sha256.Sum256([]byte(name))
	return fmt.Sprintf("%s-%d", hex.EncodeToString(sum[:12]), b)
}

// forget drops every cached block of name.
func (c *Cache) forget(name string) {
	pre := strings.TrimSuffix(blockFile(name, 0), "0")
	c.mu.Lock()
	defer c.mu.Unlock()
	for f, e := range c.m {
		if strings.HasPrefix(f, pre) {
			c.removeLocked(e)
		}
	}
}

func (c *Cache) removeLocked(e *list.Element) {
	it := e.Value.(*cached)
	c.lru.Remove(e)
	delete(c.m, it.file)
	c.used -= it.size
	os.Remove(filepath.Join(c.dir, it.file))
}

// block returns block b of name: from the cache, else fetched and kept.
func (c *Cache) block(ctx context.Context, name, f string, b int64) ([]byte, error) {
	if data, ok := c.lookup(f); ok {
		c.hits.Add(1)
		return data, nil
	}
	c.misses.Add(1)
	data, err := c.fetch(ctx, name, b)
	if err != nil {
		return nil, err
	}
	c.store(f, data)
	return data, nil
}

// fetch reads block b from the inner target: up to CacheBlock bytes.
func (c *Cache) fetch(ctx context.Context, name string, b int64) ([]byte, error) {
	buf := make([]byte, CacheBlock)
	if t, ok := c.inner.(*Target); ok { // only when nothing sits between: a wrapper may intercept reads
		n, err := t.readUpTo(ctx, name, buf, b*CacheBlock)
		return buf[:n], err
	}
	size, err := c.inner.Stat(ctx, name)
	if err != nil {
		return nil, err
	}
	n := max(0, min(size-b*CacheBlock, CacheBlock))
	if err := c.inner.ReadAt(ctx, name, buf[:n], b*CacheBlock); err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// Locker methods pass through when the inner target has object lock.

func (c *Cache) locker() (Locker, error) {
	l, ok := blockstore.As[Locker](c.inner)
	if !ok {
		return nil, fmt.Errorf("%s: target has no object lock support", c.Name())
	}
	return l, nil
}

// ObjectLock reports whether the inner bucket has object lock enabled.
func (c *Cache) ObjectLock(ctx context.Context) (bool, error) {
	l, err := c.locker()
	if err != nil {
		return false, nil
	}
	return l.ObjectLock(ctx)
}

// PutWithRetention writes through with a retention and drops cached blocks.
func (c *Cache) PutWithRetention(ctx context.Context, name string, data []byte, until time.Time) error {
	l, err := c.locker()
	if err != nil {
		return err
	}
	c.forget(name)
	return l.PutWithRetention(ctx, name, data, until)
}

// ExtendRetention passes through.
func (c *Cache) ExtendRetention(ctx context.Context, name string, until time.Time) error {
	l, err := c.locker()
	if err != nil {
		return err
	}
	return l.ExtendRetention(ctx, name, until)
}

// Retention passes through.
func (c *Cache) Retention(ctx context.Context, name string) (string, time.Time, error) {
	l, err := c.locker()
	if err != nil {
		return "", time.Time{}, err
	}
	return l.Retention(ctx, name)
}
