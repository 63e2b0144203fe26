package fsmount

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"syscall"
)

// pointDir is one recovery point's directory. Its tree is opened on first
// use and kept for the life of the mount; a failed open is retried on the
// next access.
type pointDir struct {
	v    *catalogView
	item string
	p    namedPoint
	id   uint64

	mu   sync.Mutex
	tree Dir
}

var _ IDSpace = (*pointDir)(nil)

// pointDir returns the one pointDir of a point.
func (v *catalogView) pointDir(item string, p namedPoint) *pointDir {
	key := "p\x00" + item + "\x00" + p.name
	v.mu.Lock()
	defer v.mu.Unlock()
	d, ok := v.points[key]
	if !ok || d.p.Root != p.Root {
		d = &pointDir{v: v, item: item, p: p, id: v.inos.syntheticID(key)}
		v.points[key] = d
	}
	return d
}

// Attr of a share point is its tree root's (the share's recorded top
// directory, so its owner and mode guard the point as they guarded the
// original); opening it costs one small object. A disk point, whose opening
// probes every volume, and a point that does not open show as a read-only
// directory owned by root, dated at the point; listing a point that does not
// open fails with EIO.
func (d *pointDir) Attr() Attr {
	a := d.v.dirAttr("", d.p.Time)
	if d.p.Kind != KindShare {
		a.ID = d.id
		return a
	}
	if t, err := d.root(); err == nil {
		a = t.Attr()
		a.Mode = syscall.S_IFDIR | a.Mode&07777
	}
	a.ID = d.id
	return a
}

// IDSpace gives every point its own inode numbering.
func (d *pointDir) IDSpace() string { return d.item + "\x00" + d.p.name }

func (d *pointDir) root() (Dir, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tree != nil {
		return d.tree, nil
	}
	t, err := d.v.open(d.v.ctx, d.item, d.p.PointInfo)
	if err != nil {
		d.v.log.Error("fsmount: point does not open", "item", d.item, "point", d.p.name, "kind", d.p.Kind, "err", err)
		return nil, loggedError{fmt.Errorf("open %s point %s of %q: %w", d.p.Kind, d.p.name, d.item, err)}
	}
	d.tree = t
	return t, nil
}

func (d *pointDir) Lookup(ctx context.Context, name string) (Node, error) {
	t, err := d.root()
	if err != nil {
		return nil, err
	}
	return t.Lookup(ctx, name)
}

func (d *pointDir) Entries(ctx context.Context) iter.Seq2[Entry, error] {
	t, err := d.root()
	if err != nil {
		return func(yield func(Entry, error) bool) { yield(Entry{}, err) }
	}
	return t.Entries(ctx)
}
