package fileshare

import (
	"sync"

	"github.com/rewind-backup/rewind/blockstore"
)

// fifoCache keeps the last max values by chunk id, evicting the oldest
// insert. Safe for concurrent use. The file reader keeps decoded chunks in
// one, the tree decoded directory pages.
type fifoCache[V any] struct {
	mu    sync.Mutex
	max   int
	items map[blockstore.ID]V
	order []blockstore.ID
}

func newFIFOCache[V any](max int) *fifoCache[V] {
	return &fifoCache[V]{max: max, items: make(map[blockstore.ID]V, max)}
}

func (c *fifoCache[V]) get(id blockstore.ID) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[id]
	return v, ok
}

func (c *fifoCache[V]) put(id blockstore.ID, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[id]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[id] = v
	c.order = append(c.order, id)
}
