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
	k := blockstore.NewCopier(r, w)
	for p := range int64(len(m.pages)) {
		ids, err := loadPage(ctx, r, m, p)
		if err != nil {
			return blockstore.ID{}, 0, err
		}
		if err := copyBlocks(ctx, k, ids); err != nil {
			return blockstore.ID{}, 0, fmt.Errorf("block map page %d: %w", p, err)
		}
		if m.pages[p], err = k.Put(ctx, encodePage(ids)); err != nil {
			return blockstore.ID{}, 0, err
		}
	}
	nr, err := k.Put(ctx, encodeRoot(m))
	return nr, k.Stored(), err
}

// copyBlocks replaces every non-zero id of a page with its copy's id.
func copyBlocks(ctx context.Context, k *blockstore.Copier, ids []blockstore.ID) error {
	for i, id := range ids {
		if id == zeroID {
			continue
		}
		n, err := k.Copy(ctx, id) // names the chunk on failure
		if err != nil {
			return err
		}
		ids[i] = n
	}
	return nil
}
