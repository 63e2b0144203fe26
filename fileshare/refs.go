package fileshare

import (
	"context"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// maxDepth bounds how deep a stored tree may nest (restore, refs).
const maxDepth = 8192

// Refs calls yield with every chunk the point references: its root object,
// directory pages and indexes, extent lists and file chunks (for GC's mark
// phase). An id may be yielded more than once.
func Refs(ctx context.Context, r ChunkReader, root blockstore.ID, yield func(blockstore.ID) error) error {
	t, err := OpenTree(ctx, r, root)
	if err != nil {
		return err
	}
	if err := yield(root); err != nil {
		return err
	}
	return refsDir(ctx, r, t.root, yield, 0)
}

func refsDir(ctx context.Context, r ChunkReader, dir *Node, yield func(blockstore.ID) error, depth int) error {
	if depth > maxDepth {
		return corrupt("tree nests deeper than %d levels", maxDepth)
	}
	if err := yield(dir.subtree); err != nil {
		return err
	}
	c, err := openCursor(ctx, r, dir.subtree)
	if err != nil {
		return err
	}
	for _, p := range c.pages {
		if err := yield(p.ID); err != nil {
			return err
		}
	}
	for n := c.entry(); n != nil; n = c.entry() {
		c.i++
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := refsEntry(ctx, r, n, yield, depth); err != nil {
			return err
		}
	}
	return c.err
}

func refsEntry(ctx context.Context, r ChunkReader, n *Node, yield func(blockstore.ID) error, depth int) error {
	switch {
	case n.Type == TypeDir:
		return refsDir(ctx, r, n, yield, depth+1)
	case n.Type != TypeFile:
		return nil
	}
	f, err := openFile(ctx, r, n)
	if err != nil {
		return err
	}
	for _, l := range n.lists {
		if err := yield(l.ID); err != nil {
			return err
		}
	}
	return f.Extents(func(x Extent) error {
		if x.ID.IsZero() {
			return nil
		}
		return yield(x.ID)
	})
}

// errDepth reports a tree deeper than maxDepth.
func errDepth(path string) error {
	return fmt.Errorf("%s: %w", showPath(path), corrupt("tree nests deeper than %d levels", maxDepth))
}
