package fileshare

import (
	"context"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// dirCursor walks a stored directory's entries in name order, one leaf page
// in memory at a time.
type dirCursor struct {
	ctx   context.Context
	r     ChunkReader
	pages []pageRef // nil for a single-leaf directory
	next  int       // next page to load
	cur   []*Node
	i     int
	err   error
}

func openCursor(ctx context.Context, r ChunkReader, id blockstore.ID) (*dirCursor, error) {
	o, err := loadDir(ctx, r, id)
	if err != nil {
		return nil, err
	}
	return &dirCursor{ctx: ctx, r: r, pages: o.pages, cur: o.entries}, nil
}

func loadDir(ctx context.Context, r ChunkReader, id blockstore.ID) (*dirObject, error) {
	data, err := r.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("directory object %s: %w", id, err)
	}
	o, err := decodeDir(data)
	if err != nil {
		return nil, fmt.Errorf("directory object %s: %w", id, err)
	}
	return o, nil
}

// loadPage loads leaf page i of an index and checks it fits the index.
func loadPage(ctx context.Context, r ChunkReader, pages []pageRef, i int) ([]*Node, error) {
	o, err := loadDir(ctx, r, pages[i].ID)
	if err != nil {
		return nil, err
	}
	es := o.entries
	bad := o.pages != nil || len(es) != int(pages[i].Count) || es[0].Name != pages[i].First ||
		(i+1 < len(pages) && es[len(es)-1].Name >= pages[i+1].First)
	if bad {
		return nil, corrupt("directory page %s does not match its index entry %q", pages[i].ID, pages[i].First)
	}
	return es, nil
}

// entry returns the current entry, loading the next page when needed; nil at
// the end or after an error (see err).
func (c *dirCursor) entry() *Node {
	for c.i >= len(c.cur) {
		if c.err != nil || c.next >= len(c.pages) {
			return nil
		}
		c.cur, c.err = loadPage(c.ctx, c.r, c.pages, c.next)
		c.next++
		c.i = 0
	}
	return c.cur[c.i]
}

// find advances to name (names must be asked in increasing order) and
// returns its entry, or nil. A nil cursor finds nothing.
func (c *dirCursor) find(name string) *Node {
	if c == nil {
		return nil
	}
	for n := c.entry(); n != nil; n = c.entry() {
		if n.Name >= name {
			if n.Name == name {
				return n
			}
			return nil
		}
		c.i++
	}
	return nil
}
