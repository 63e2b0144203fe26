package fsmount

import (
	"context"
	"sort"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// Kind is what a recovery point holds.
type Kind string

// Point kinds.
const (
	KindShare Kind = "share"
	KindDisk  Kind = "disk"
)

// ItemInfo names one protected item.
type ItemInfo struct {
	Name string
}

// PointInfo is one recovery point as the catalog records it.
type PointInfo struct {
	Time time.Time
	Kind Kind
	Root blockstore.ID
}

// Catalog is the view of the vault's catalog the mount needs. The daemon
// implements it; it is called on every lookup of the root and item
// directories (the kernel caches the answers for a second).
type Catalog interface {
	Items(ctx context.Context) ([]ItemInfo, error)
	Points(ctx context.Context, item string) ([]PointInfo, error)
}

// ChunkReader fetches a chunk's plaintext. Returned slices are shared and
// must not be modified.
type ChunkReader interface {
	Get(ctx context.Context, id blockstore.ID) ([]byte, error)
}

// LatestName is the symlink in each item directory naming its newest point.
const LatestName = "latest"

// PointName is the directory name of a point taken at t: RFC 3339 in UTC.
func PointName(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// namedPoint is a point with its directory name.
type namedPoint struct {
	name string
	PointInfo
}

// namePoints sorts points oldest first and names them. Points within the same
// second get nanosecond names so every name is unique.
func namePoints(ps []PointInfo) []namedPoint {
	ps = append([]PointInfo(nil), ps...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Time.Before(ps[j].Time) })
	count := map[string]int{}
	for _, p := range ps {
		count[PointName(p.Time)]++
	}
	out := make([]namedPoint, 0, len(ps))
	for _, p := range ps {
		n := PointName(p.Time)
		if count[n] > 1 {
			n = p.Time.UTC().Format(time.RFC3339Nano)
		}
		out = append(out, namedPoint{name: n, PointInfo: p})
	}
	return out
}
