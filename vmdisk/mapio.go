package vmdisk

import (
	"context"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// mapWriter streams block map entries into page chunks; only one page is in
// memory at a time.
type mapWriter struct {
	w      ChunkWriter
	cur    []blockstore.ID
	pages  []blockstore.ID
	stored int64
}

func newMapWriter(w ChunkWriter) *mapWriter {
	return &mapWriter{w: w, cur: make([]blockstore.ID, 0, PageEntries)}
}

func (m *mapWriter) add(ctx context.Context, id blockstore.ID) error {
	m.cur = append(m.cur, id)
	if len(m.cur) == PageEntries {
		return m.flushPage(ctx)
	}
	return nil
}

func (m *mapWriter) flushPage(ctx context.Context) error {
	id, err := m.put(ctx, encodePage(m.cur))
	if err != nil {
		return fmt.Errorf("store block map page %d: %w", len(m.pages), err)
	}
	m.pages = append(m.pages, id)
	m.cur = m.cur[:0]
	return nil
}

func (m *mapWriter) put(ctx context.Context, b []byte) (blockstore.ID, error) {
	res, err := m.w.Put(ctx, b)
	if err != nil {
		return blockstore.ID{}, err
	}
	m.stored += int64(res.Stored)
	return res.ID, nil
}

// finish writes the last page and the root object and returns the root id.
func (m *mapWriter) finish(ctx context.Context, size int64, state string) (blockstore.ID, error) {
	if len(m.cur) > 0 {
		if err := m.flushPage(ctx); err != nil {
			return blockstore.ID{}, err
		}
	}
	if int64(len(m.pages)) != pagesFor(blocksFor(size)) {
		return blockstore.ID{}, fmt.Errorf("block map: %d pages for %d bytes: %w", len(m.pages), size, errShortMap)
	}
	id, err := m.put(ctx, encodeRoot(&mapRoot{size: size, pages: m.pages, state: state}))
	if err != nil {
		return blockstore.ID{}, fmt.Errorf("store block map root: %w", err)
	}
	return id, nil
}

// loadRoot fetches and decodes a point's root object.
func loadRoot(ctx context.Context, r ChunkReader, root blockstore.ID) (*mapRoot, error) {
	b, err := r.Get(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("read disk point root %s: %w", root, err)
	}
	m, err := decodeRoot(b)
	if err != nil {
		return nil, fmt.Errorf("disk point %s: %w", root, err)
	}
	return m, nil
}

// loadPage fetches page p of m.
func loadPage(ctx context.Context, r ChunkReader, m *mapRoot, p int64) ([]blockstore.ID, error) {
	b, err := r.Get(ctx, m.pages[p])
	if err != nil {
		return nil, fmt.Errorf("read block map page %d: %w", p, err)
	}
	ids, err := decodePage(b, pageLen(blocksFor(m.size), p))
	if err != nil {
		return nil, fmt.Errorf("block map page %d (%s): %w", p, m.pages[p], err)
	}
	return ids, nil
}

// mapCursor reads entries of a map in any order, caching the last page; not
// safe for concurrent use.
type mapCursor struct {
	r     ChunkReader
	m     *mapRoot
	page  int64
	ids   []blockstore.ID
	nblks int64
}

func newMapCursor(r ChunkReader, m *mapRoot) *mapCursor {
	return &mapCursor{r: r, m: m, page: -1, nblks: blocksFor(m.size)}
}

// entry returns block i's id; i must be < the map's block count.
func (c *mapCursor) entry(ctx context.Context, i int64) (blockstore.ID, error) {
	if i < 0 || i >= c.nblks {
		return blockstore.ID{}, fmt.Errorf("block %d outside map of %d blocks", i, c.nblks)
	}
	if p := i / PageEntries; p != c.page {
		ids, err := loadPage(ctx, c.r, c.m, p)
		if err != nil {
			return blockstore.ID{}, err
		}
		c.page, c.ids = p, ids
	}
	return c.ids[i%PageEntries], nil
}
