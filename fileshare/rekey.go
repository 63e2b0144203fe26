package fileshare

import (
	"context"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// Rekey copies the share point root, read through r, into w, which may
// belong to a store with other keys (a seed imported into a vault): file
// chunks, extent lists, directory pages and indexes and the root object are
// stored again under w's ids. Every entry keeps its metadata, including the
// source device and inode the next backup compares, so that backup reads only
// changed files. It returns the new root and the encoded bytes w stored.
// Memory: one directory page per tree level plus one old→new id per distinct
// file chunk. The caller flushes w and records the root.
func Rekey(ctx context.Context, r ChunkReader, w ChunkWriter, root blockstore.ID) (blockstore.ID, int64, error) {
	b, err := r.Get(ctx, root)
	if err != nil {
		return blockstore.ID{}, 0, fmt.Errorf("root object %s: %w", root, err)
	}
	n, err := decodeRoot(b)
	if err != nil {
		return blockstore.ID{}, 0, fmt.Errorf("root object %s: %w", root, err)
	}
	k := &rekeyer{r: r, c: blockstore.NewCopier(r, w)}
	if err := k.node(ctx, n, 0); err != nil {
		return blockstore.ID{}, 0, err
	}
	nr, err := k.c.Put(ctx, encodeRoot(n))
	return nr, k.c.Stored(), err
}

type rekeyer struct {
	r ChunkReader
	c *blockstore.Copier
}

func (k *rekeyer) node(ctx context.Context, n *Node, depth int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	switch {
	case n.Type == TypeDir:
		n.subtree, err = k.dir(ctx, n.subtree, depth+1)
	case len(n.lists) > 0:
		for i := range n.lists {
			if n.lists[i].ID, err = k.list(ctx, n.lists[i].ID, n.Size); err != nil {
				break
			}
		}
	default:
		err = k.extents(ctx, n.extents)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", showPath(n.Name), err)
	}
	return nil
}

func (k *rekeyer) dir(ctx context.Context, id blockstore.ID, depth int) (blockstore.ID, error) {
	if depth > maxDepth {
		return id, corrupt("tree nests deeper than %d levels", maxDepth)
	}
	o, err := loadDir(ctx, k.r, id)
	if err != nil {
		return id, err
	}
	if o.pages == nil {
		return k.leaf(ctx, o.entries, depth)
	}
	for i := range o.pages {
		es, err := loadPage(ctx, k.r, o.pages, i)
		if err != nil {
			return id, err
		}
		if o.pages[i].ID, err = k.leaf(ctx, es, depth); err != nil {
			return id, err
		}
	}
	return k.c.Put(ctx, encodeIndex(o.pages))
}

func (k *rekeyer) leaf(ctx context.Context, es []*Node, depth int) (blockstore.ID, error) {
	for _, n := range es {
		if err := k.node(ctx, n, depth); err != nil {
			return blockstore.ID{}, err
		}
	}
	return k.c.Put(ctx, encodeLeaf(es))
}

func (k *rekeyer) list(ctx context.Context, id blockstore.ID, size int64) (blockstore.ID, error) {
	b, err := k.r.Get(ctx, id)
	if err != nil {
		return id, fmt.Errorf("extent list %s: %w", id, err)
	}
	xs, err := decodeExtentList(b, size)
	if err != nil {
		return id, fmt.Errorf("extent list %s: %w", id, err)
	}
	if err := k.extents(ctx, xs); err != nil {
		return id, err
	}
	return k.c.Put(ctx, encodeExtentList(xs))
}

func (k *rekeyer) extents(ctx context.Context, xs []Extent) error {
	for i, x := range xs {
		if x.ID.IsZero() {
			continue
		}
		n, err := k.c.Copy(ctx, x.ID)
		if err != nil {
			return err
		}
		xs[i].ID = n
	}
	return nil
}
