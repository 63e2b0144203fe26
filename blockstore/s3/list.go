package s3

import (
	"context"
	"errors"
	"strings"

	"github.com/minio/minio-go/v7"
)

// errStop carries fn's own error out of a listing so it is not retried.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

// List calls fn for every object whose name starts with prefix. A listing
// cut by a transient failure resumes after the last name handed to fn.
func (t *Target) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	base := ""
	if t.cfg.Prefix != "" {
		base = t.cfg.Prefix + "/"
	}
	after := ""
	err := t.hl.do(ctx, 0, func(ctx context.Context) error {
		return t.listFrom(ctx, base, prefix, &after, fn)
	})
	var stop errStop
	if errors.As(err, &stop) {
		return stop.err
	}
	return t.wrap("list", prefix+"*", err)
}

func (t *Target) listFrom(ctx context.Context, base, prefix string, after *string, fn func(string, int64) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn fails
	opts := minio.ListObjectsOptions{Prefix: base + prefix, Recursive: true, StartAfter: *after}
	for obj := range t.cl.ListObjects(ctx, t.cfg.Bucket, opts) {
		if obj.Err != nil {
			return obj.Err
		}
		name := strings.TrimPrefix(obj.Key, base)
		if strings.HasSuffix(name, "/") {
			continue // a directory marker some tools create
		}
		if err := fn(name, obj.Size); err != nil {
			return errStop{err}
		}
		*after = obj.Key
	}
	return ctx.Err()
}
