package fsmount

import (
	"context"
	"fmt"
	iofs "io/fs"
	"iter"
	"log/slog"
	"sync"
	"syscall"
	"time"
)

// opener turns a recovery point into the tree shown in its directory.
type opener func(ctx context.Context, item string, p PointInfo) (Dir, error)

// catalogView is what the catalog directories share: the catalog, the
// filters from Options, and the opener.
type catalogView struct {
	ctx     context.Context // the mount's lifetime
	cat     Catalog
	item    string    // only this item, when set
	point   string    // "", "latest", or an RFC 3339 time
	pointAt time.Time // parsed point filter
	open    opener
	inos    *inoTable
	log     *slog.Logger
	born    time.Time

	mu     sync.Mutex
	points map[string]*pointDir // by item + "\x00" + name: one tree per point
}

func newCatalogView(ctx context.Context, cat Catalog, o Options, open opener, inos *inoTable, log *slog.Logger) (*catalogView, error) {
	v := &catalogView{ctx: ctx, cat: cat, item: o.Item, point: o.Point, open: open, inos: inos, log: log,
		born: time.Now(), points: map[string]*pointDir{}}
	if o.Point != "" && o.Point != LatestName {
		t, err := time.Parse(time.RFC3339Nano, o.Point)
		if err != nil {
			return nil, fmt.Errorf("point %q: want an RFC 3339 time or %q", o.Point, LatestName)
		}
		v.pointAt = t
	}
	return v, nil
}

func (v *catalogView) dirAttr(key string, t time.Time) Attr {
	return Attr{Mode: syscall.S_IFDIR | 0o555, Nlink: 2, Mtime: t, ID: v.inos.syntheticID(key)}
}

// rootDir lists the items.
type rootDir struct{ v *catalogView }

func (rootDir) volatile()    {}
func (r rootDir) Attr() Attr { return r.v.dirAttr("", r.v.born) }

func (r rootDir) items(ctx context.Context) ([]string, error) {
	its, err := r.v.cat.Items(ctx)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	var names []string
	for _, it := range its {
		if validName(it.Name) && (r.v.item == "" || it.Name == r.v.item) {
			names = append(names, it.Name)
		}
	}
	return names, nil
}

func (r rootDir) Lookup(ctx context.Context, name string) (Node, error) {
	names, err := r.items(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == name {
			return itemDir{v: r.v, name: n}, nil
		}
	}
	return nil, iofs.ErrNotExist
}

func (r rootDir) Entries(ctx context.Context) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		names, err := r.items(ctx)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		for _, n := range names {
			if !yield(Entry{Name: n, Node: itemDir{v: r.v, name: n}}, nil) {
				return
			}
		}
	}
}

// validName rejects names the kernel cannot show as one path element.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '/' || s[i] == 0 {
			return false
		}
	}
	return true
}
