package vmdisk

import (
	"context"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// Rekey copies the disk point root, read through r, into w, which may belong
// to a store with other keys (a seed imported into a vault): every data
// block, map page and the root are stored again under w's ids, the block map
// and the source state unchanged. It returns the new root and the encoded
// bytes w stored. Memory: one map page plus one old→new id per distinct
// block (64 bytes each). A chunk that fails to read or decode is an error
// naming it; nothing is committed (the caller flushes w and records the root).
func Rekey(ctx context.Context, r ChunkReader, w ChunkWriter, root blockstore.ID) (blockstore.ID, int64, error) {
	m, err := loadRoot(ctx, r, root)
	if err != nil {
		return blockstore.ID{}, 0, err
	}
	k := &rekeyer{r: r, w: w, ids: map[blockstore.ID]blockstore.ID{}}
	for p := range int64(len(m.pages)) {
		ids, err := loadPage(ctx, r, m, p)
		if err != nil {
			return blockstore.ID{}, 0, err
		}
		if err := k.blocks(ctx, ids); err != nil {
			return blockstore.ID{}, 0, fmt.Errorf("block map page %d: %w", p, err)
		}
		if m.pages[p], err = k.put(ctx, encodePage(ids)); err != nil {
			return blockstore.ID{}, 0, err
		}
	}
	nr, err := k.put(ctx, encodeRoot(m))
	return nr, k.stored, err
}

type rekeyer struct {
	r      ChunkReader
	w      ChunkWriter
	ids    map[blockstore.ID]blockstore.ID
	stored int64
}

// blocks replaces every non-zero id of a page with its copy's id.
func (k *rekeyer) blocks(ctx context.Context, ids []blockstore.ID) error {
	for i, id := range ids {
		if id == zeroID {
			continue
		}
		if n, ok := k.ids[id]; ok {
			ids[i] = n
			continue
		}
		data, err := k.r.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("block %s: %w", id, err)
		}
		n, err := k.put(ctx, data)
		if err != nil {
			return err
		}
		k.ids[id], ids[i] = n, n
	}
	return nil
}

func (k *rekeyer) put(ctx context.Context, data []byte) (blockstore.ID, error) {
	res, err := k.w.Put(ctx, data)
	if err != nil {
		return blockstore.ID{}, err
	}
	k.stored += int64(res.Stored)
	return res.ID, nil
}
