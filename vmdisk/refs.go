package vmdisk

import (
	"context"

	"github.com/rewind-backup/rewind/blockstore"
)

// Refs hands yield every chunk the disk point root references: the root
// itself, every map page and every data block (each distinct id once per
// page). GC marks from it.
func Refs(ctx context.Context, r ChunkReader, root blockstore.ID, yield func(blockstore.ID) error) error {
	m, err := loadRoot(ctx, r, root)
	if err != nil {
		return err
	}
	if err := yield(root); err != nil {
		return err
	}
	seen := make(map[blockstore.ID]struct{}, 64)
	for p := range int64(len(m.pages)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(m.pages[p]); err != nil {
			return err
		}
		ids, err := loadPage(ctx, r, m, p)
		if err != nil {
			return err
		}
		clear(seen)
		for _, id := range ids {
			if _, dup := seen[id]; dup || id == zeroID {
				continue
			}
			seen[id] = struct{}{}
			if err := yield(id); err != nil {
				return err
			}
		}
	}
	return nil
}
