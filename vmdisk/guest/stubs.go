package guest

import (
	"context"
	"io"
)

func openXFS(r io.ReaderAt, size int64) (backend, error) { return nil, ErrUnsupported }
func openFAT(r io.ReaderAt, size int64) (backend, error) { return nil, ErrUnsupported }
func openNTFS(ctx context.Context, r io.ReaderAt, size int64) (backend, error) {
	return nil, ErrUnsupported
}
func parseBPB(b []byte, size int64) (any, error) { return nil, ErrUnsupported }
