package fsmount

import (
	"context"
	"fmt"
	iofs "io/fs"
	"iter"
	"syscall"
)

// itemDir lists an item's points and the latest link.
type itemDir struct {
	v    *catalogView
	name string
}

func (itemDir) volatile()    {}
func (d itemDir) Attr() Attr { return d.v.dirAttr("i\x00"+d.name, d.v.born) }

// points returns the item's points after the mount's point filter, oldest
// first.
func (d itemDir) points(ctx context.Context) ([]namedPoint, error) {
	ps, err := d.v.cat.Points(ctx, d.name)
	if err != nil {
		return nil, fmt.Errorf("list points of %q: %w", d.name, err)
	}
	all := namePoints(ps)
	switch {
	case d.v.point == LatestName && len(all) > 0:
		return all[len(all)-1:], nil
	case !d.v.pointAt.IsZero():
		for _, p := range all {
			if p.Time.Equal(d.v.pointAt) {
				return []namedPoint{p}, nil
			}
		}
		return nil, nil
	}
	return all, nil
}

func (d itemDir) Lookup(ctx context.Context, name string) (Node, error) {
	ps, err := d.points(ctx)
	if err != nil {
		return nil, err
	}
	if name == LatestName && len(ps) > 0 {
		return d.latest(ps[len(ps)-1].name), nil
	}
	for _, p := range ps {
		if p.name == name {
			return d.v.pointDir(d.name, p), nil
		}
	}
	return nil, iofs.ErrNotExist
}

func (d itemDir) Entries(ctx context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		ps, err := d.points(ctx)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		for _, p := range ps {
			if !yield(Entry{Name: p.name, Node: d.v.pointDir(d.name, p)}, nil) {
				return
			}
		}
		if len(ps) > 0 {
			yield(Entry{Name: LatestName, Node: d.latest(ps[len(ps)-1].name)}, nil)
		}
	}
}

func (d itemDir) latest(target string) latestLink {
	return latestLink{target: target, id: d.v.inos.syntheticID("l\x00" + d.name + "\x00" + target)}
}

// latestLink points at the newest point's directory. Its target changes as
// backups run, so it is volatile like its directory, and each target gets
// its own inode (the kernel may cache a link's target with its inode).
type latestLink struct {
	target string
	id     uint64
}

func (latestLink) volatile() {}

func (l latestLink) Attr() Attr {
	return Attr{Mode: syscall.S_IFLNK | 0o777, Size: int64(len(l.target)), Nlink: 1, ID: l.id}
}

func (l latestLink) Readlink(context.Context) (string, error) { return l.target, nil }
