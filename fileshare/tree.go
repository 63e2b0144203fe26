package fileshare

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/rewind-backup/rewind/blockstore"
)

// ErrNotExist: no entry of that name in the point (errors.Is(err, fs.ErrNotExist) holds too).
var ErrNotExist = fmt.Errorf("no such entry in the recovery point: %w", fs.ErrNotExist)

// ErrNotDir: a path component is not a directory.
var ErrNotDir = errors.New("not a directory in the recovery point")

// Tree reads one share recovery point: lookups, directory listings and file
// contents, for the FUSE mount and item-level restore. Safe for concurrent
// use; it caches a few decoded directory pages.
type Tree struct {
	r    ChunkReader
	root *Node
	id   blockstore.ID

	cache *fifoCache[*dirObject]
}

const treeCachePages = 64

// OpenTree reads the root object of a point made by Backup.
func OpenTree(ctx context.Context, r ChunkReader, root blockstore.ID) (*Tree, error) {
	data, err := r.Get(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("share point root %s: %w", root, err)
	}
	n, err := decodeRoot(data)
	if err != nil {
		return nil, fmt.Errorf("share point root %s: %w", root, err)
	}
	return &Tree{r: r, root: n, id: root, cache: newFIFOCache[*dirObject](treeCachePages)}, nil
}

// Root is the tree's top directory (Name "").
func (t *Tree) Root() *Node { return t.root }

// Lookup resolves a slash-separated path from the root ("" or "/" is the
// root). Symlinks are not followed.
func (t *Tree) Lookup(ctx context.Context, path string) (*Node, error) {
	n := t.root
	for _, c := range strings.Split(strings.Trim(path, "/"), "/") {
		if c == "" {
			continue
		}
		var err error
		if n, err = t.Child(ctx, n, c); err != nil {
			return nil, fmt.Errorf("%s: %w", quote(path), err)
		}
	}
	return n, nil
}

// Child finds name in directory dir without reading the other pages.
func (t *Tree) Child(ctx context.Context, dir *Node, name string) (*Node, error) {
	if dir.Type != TypeDir {
		return nil, ErrNotDir
	}
	o, err := t.dir(ctx, dir.subtree)
	if err != nil {
		return nil, err
	}
	es := o.entries
	if o.pages != nil {
		i := sort.Search(len(o.pages), func(i int) bool { return o.pages[i].First > name }) - 1
		if i < 0 {
			return nil, ErrNotExist
		}
		if es, err = t.page(ctx, o.pages, i); err != nil {
			return nil, err
		}
	}
	i := sort.Search(len(es), func(i int) bool { return es[i].Name >= name })
	if i < len(es) && es[i].Name == name {
		return es[i], nil
	}
	return nil, ErrNotExist
}

// ReadDir calls fn for the entries of dir whose names sort after after
// ("" for all), in name order, one page in memory at a time. A FUSE
// readdir continues a listing by passing the last name it returned.
func (t *Tree) ReadDir(ctx context.Context, dir *Node, after string, fn func(*Node) error) error {
	if dir.Type != TypeDir {
		return ErrNotDir
	}
	o, err := t.dir(ctx, dir.subtree)
	if err != nil {
		return err
	}
	if o.pages == nil {
		return eachAfter(o.entries, after, fn)
	}
	first := max(0, sort.Search(len(o.pages), func(i int) bool { return o.pages[i].First > after })-1)
	for i := first; i < len(o.pages); i++ {
		es, err := t.page(ctx, o.pages, i)
		if err != nil {
			return err
		}
		if err := eachAfter(es, after, fn); err != nil {
			return err
		}
	}
	return nil
}

func eachAfter(es []*Node, after string, fn func(*Node) error) error {
	for _, n := range es[sort.Search(len(es), func(i int) bool { return es[i].Name > after }):] {
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tree) page(ctx context.Context, pages []pageRef, i int) ([]*Node, error) {
	if o, ok := t.cache.get(pages[i].ID); ok {
		return o.entries, nil
	}
	es, err := loadPage(ctx, t.r, pages, i)
	if err != nil {
		return nil, err
	}
	t.cache.put(pages[i].ID, &dirObject{entries: es})
	return es, nil
}

func (t *Tree) dir(ctx context.Context, id blockstore.ID) (*dirObject, error) {
	if o, ok := t.cache.get(id); ok {
		return o, nil
	}
	o, err := loadDir(ctx, t.r, id)
	if err != nil {
		return nil, err
	}
	t.cache.put(id, o)
	return o, nil
}
