package fileshare

import (
	"context"
	"hash/fnv"
	"strconv"
	"unicode/utf8"

	"github.com/rewind-backup/rewind/blockstore"
)

// pending is an entry whose file contents may still be being read.
type pending struct {
	n    *Node
	done chan struct{} // closed when n is final; nil when ready at once
	skip bool          // set before done closes: the entry is not recorded
	// link, for a later name of a hardlinked file: the first occurrence,
	// whose data this entry takes over.
	link *pending
	// hint estimates the encoded entry from what the walker saw (readers
	// change n later); page cuts use it, so it must not depend on whether
	// the contents were read or reused.
	hint int
}

func ready(n *Node) *pending { return &pending{n: n, hint: sizeHint(n)} }

func queued(n *Node) *pending {
	return &pending{n: n, done: make(chan struct{}), hint: sizeHint(n)}
}

func sizeHint(n *Node) int {
	h := 64 + len(n.Name) + len(n.Target) + len(n.LinkPath)
	for _, x := range n.Xattrs {
		h += 8 + len(x.Name) + len(x.Value)
	}
	switch {
	case n.Type != TypeFile:
	case n.Size <= inlineMax:
		h += int(n.Size)
	default:
		h += int(min(n.Size/MinChunk+1, inlineExtentMax)) * 45
	}
	return h
}

func (p *pending) wait(ctx context.Context) error {
	if p.done == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dirBuilder collects a directory's entries into leaf pages (sealed at
// pageMaxEntries, pageMaxBytes, or a content-defined cut on the name) and
// the pages into an index when there is more than one.
type dirBuilder struct {
	b     *backup
	page  []*pending
	bytes int
	refs  []pageRef
}

func (d *dirBuilder) add(ctx context.Context, p *pending) error {
	d.page = append(d.page, p)
	d.bytes += p.hint
	if len(d.page) >= pageMaxEntries || d.bytes >= pageMaxBytes || pageCut(p.n.Name, len(d.page)) {
		return d.flush(ctx)
	}
	return nil
}

// pageCut ends a page after name when its hash says so (about one name in
// 512, after at least 64): an insert into a huge directory then changes one
// page rather than shifting every later page.
func pageCut(name string, n int) bool {
	if n < 64 {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()%512 == 0
}

func (d *dirBuilder) flush(ctx context.Context) error {
	entries := make([]*Node, 0, len(d.page))
	for _, p := range d.page {
		if err := p.wait(ctx); err != nil {
			return err
		}
		if p.link != nil {
			if err := d.b.adoptLink(ctx, p); err != nil {
				return err
			}
		}
		if !p.skip {
			entries = append(entries, p.n)
		}
	}
	d.page, d.bytes = d.page[:0], 0
	if len(entries) == 0 {
		return nil
	}
	id, err := d.b.put(ctx, encodeLeaf(entries))
	if err != nil {
		return err
	}
	d.refs = append(d.refs, pageRef{First: entries[0].Name, Count: uint32(len(entries)), ID: id})
	return nil
}

func (d *dirBuilder) finish(ctx context.Context) (blockstore.ID, error) {
	if err := d.flush(ctx); err != nil {
		return blockstore.ID{}, err
	}
	switch {
	case len(d.refs) == 0:
		return d.b.put(ctx, encodeLeaf(nil))
	case len(d.refs) == 1:
		return d.refs[0].ID, nil
	case len(d.refs) > maxIndexPages:
		return blockstore.ID{}, &storeError{errTooManyPages}
	}
	return d.b.put(ctx, encodeIndex(d.refs))
}

// quote renders any bytes readably, keeping valid UTF-8 as is.
func quote(s string) string {
	if utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return strconv.QuoteToASCII(s)
}
