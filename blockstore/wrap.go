package blockstore

import (
	"context"
	"time"
)

// Unwrapper is implemented by every Target that wraps another (the daemon's
// throttle, the S3 read cache, the fault injector). Optional capabilities
// are found through As, which walks the chain, so a wrapper that does not
// implement a capability itself never hides the inner target's.
type Unwrapper interface {
	// Unwrap returns the wrapped target.
	Unwrap() Target
}

// As returns the outermost target in t's wrapper chain (t itself first, then
// each Unwrap) that implements T, and whether there was one. A wrapper that
// must intercept a capability (throttle a PutParts, drop cached blocks on a
// put) implements it itself; otherwise the inner target's is used directly.
func As[T any](t Target) (T, bool) {
	for t != nil {
		if c, ok := t.(T); ok {
			return c, true
		}
		u, ok := t.(Unwrapper)
		if !ok {
			break
		}
		t = u.Unwrap()
	}
	var zero T
	return zero, false
}

// PartsPutter is implemented by targets that store an object given in
// parts (the dir target), which spares joining a shard's header and data.
type PartsPutter interface {
	// PutParts stores the concatenation of parts as one object, like Put.
	PutParts(ctx context.Context, name string, parts ...[]byte) error
}

// TempCleaner is implemented by targets that can leave partial uploads
// behind after a crash (the dir target's temp files). GC calls it.
type TempCleaner interface {
	// RemoveStaleTemp deletes partial uploads older than olderThan and
	// reports how many objects and bytes it removed.
	RemoveStaleTemp(ctx context.Context, olderThan time.Duration) (removed int, bytes int64, err error)
}

// putParts stores parts on t with PutParts when the chain has it, else
// joined with Put.
func putParts(ctx context.Context, t Target, name string, parts ...[]byte) error {
	if pp, ok := As[PartsPutter](t); ok {
		return pp.PutParts(ctx, name, parts...)
	}
	var joined []byte
	for _, p := range parts {
		joined = append(joined, p...)
	}
	return t.Put(ctx, name, joined)
}
