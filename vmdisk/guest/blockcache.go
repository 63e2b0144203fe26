package guest

import (
	"io"
	"sync"
)

// blockCache keeps recently read metadata blocks (inode-table blocks) so a
// directory listing that stats every child does one read per block, not one
// per inode. Bounded to blockCacheSize blocks; eviction drops an arbitrary
// entry.
type blockCache struct {
	r  io.ReaderAt
	bs int64

	mu sync.Mutex
	m  map[int64][]byte
}

const blockCacheSize = 256

func newBlockCache(r io.ReaderAt, bs int64) *blockCache {
	return &blockCache{r: r, bs: bs, m: map[int64][]byte{}}
}

// read returns n bytes at off, which must not cross a block boundary.
func (c *blockCache) read(off int64, n int) ([]byte, error) {
	blk := off / c.bs
	in := off - blk*c.bs
	if in+int64(n) > c.bs {
		return readAt(c.r, n, off)
	}
	c.mu.Lock()
	b, ok := c.m[blk]
	c.mu.Unlock()
	if !ok {
		var err error
		if b, err = readAt(c.r, int(c.bs), blk*c.bs); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if len(c.m) >= blockCacheSize {
			for k := range c.m {
				delete(c.m, k)
				break
			}
		}
		c.m[blk] = b
		c.mu.Unlock()
	}
	return append([]byte(nil), b[in:in+int64(n)]...), nil
}
