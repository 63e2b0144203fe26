package guest

import (
	"context"
	"io"
)

func openXFS(r io.ReaderAt, size int64) (backend, error) { return nil, ErrUnsupported }
func openNTFS(ctx context.Context, r io.ReaderAt, size int64) (backend, error) {
	return nil, ErrUnsupported
}
