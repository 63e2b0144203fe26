package guest

import "io"

func openXFS(r io.ReaderAt, size int64) (backend, error) { return nil, ErrUnsupported }
