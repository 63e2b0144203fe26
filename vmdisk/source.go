package vmdisk

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
)

// extent is a byte range [off, off+n).
type extent struct{ off, n int64 }

func (e extent) end() int64 { return e.off + e.n }

// source is a disk being backed up.
type source interface {
	// Size is the disk size in bytes.
	Size() int64
	// ReadAt fills p from off; a short read is an error.
	ReadAt(ctx context.Context, p []byte, off int64) error
	// Data returns the sorted extents within [off, off+n) that may hold
	// non-zero data; everything else reads as zeros.
	Data(ctx context.Context, off, n int64) ([]extent, error)
	Close() error
}

// dirtySource is a source with a trusted dirty bitmap.
type dirtySource interface {
	// Dirty returns the sorted extents within [off, off+n) changed since the
	// previous point.
	Dirty(ctx context.Context, off, n int64) ([]extent, error)
}

// sourceKind classifies a source spec.
func sourceKind(spec string) string {
	switch {
	case strings.HasPrefix(spec, "nbd://"), strings.HasPrefix(spec, "nbd+unix://"):
		return "nbd"
	case strings.HasPrefix(spec, "qcow2:"):
		return "qcow2"
	}
	return "file"
}

// checkSize rejects sizes a sane disk cannot have.
func checkSize(what string, size int64) error {
	if size < 0 || size > MaxDiskSize {
		return fmt.Errorf("%s reports disk size %d, outside 0..%d: refusing a broken or hostile source", what, size, int64(MaxDiskSize))
	}
	return nil
}

// clip intersects sorted, disjoint extents with [off, end).
func clip(es []extent, off, end int64) []extent {
	var out []extent
	k := sort.Search(len(es), func(k int) bool { return es[k].end() > off })
	for _, e := range es[k:] {
		if e.off >= end {
			break
		}
		s, t := max(e.off, off), min(e.end(), end)
		if s < t {
			out = append(out, extent{s, t - s})
		}
	}
	return out
}

// isQcow2File reports whether path starts with the qcow2 magic.
func isQcow2File(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	_, err = f.ReadAt(b[:], 0)
	return err == nil && string(b[:]) == "QFI\xfb"
}
