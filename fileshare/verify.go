package fileshare

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// contentVerifier is implemented by Content that can check a restored copy
// more cheaply than by reading the source again (a share point compares
// chunk ids).
type contentVerifier interface {
	verify(ctx context.Context, fd int) error
}

// verify re-reads a restored file and compares it with the source. Holes
// are not re-read.
func (rs *restorer) verify(ctx context.Context, fd int, n *Entry, rel string) {
	rs.verified.Add(1)
	if err := rs.verifyFile(ctx, fd, n); err != nil {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if ctx.Err() == nil && len(rs.res.Mismatches) < maxWarnings {
			rs.res.Mismatches = append(rs.res.Mismatches, fmt.Sprintf("%s: %v", showPath(rel), err))
		}
	}
}

func (rs *restorer) verifyFile(ctx context.Context, fd int, n *Entry) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Size != n.Size {
		return fmt.Errorf("size %d, the source says %d", st.Size, n.Size)
	}
	if n.Size == 0 {
		return nil
	}
	c, err := rs.src.Open(ctx, n)
	if err != nil {
		return err
	}
	defer c.Close()
	if v, ok := c.(contentVerifier); ok {
		return v.verify(ctx, fd)
	}
	return c.Data(ctx, func(off int64, data []byte) error { return compareAt(fd, off, data) })
}

// readBack reads n bytes of the restored file at off.
func readBack(fd int, off, n int64) ([]byte, error) {
	got := make([]byte, n)
	k, err := unix.Pread(fd, got, off)
	if err != nil {
		return nil, fmt.Errorf("read back at %d: %w", off, err)
	}
	if int64(k) != n {
		return nil, fmt.Errorf("read back at %d: %w", off, io.ErrUnexpectedEOF)
	}
	return got, nil
}

func compareAt(fd int, off int64, want []byte) error {
	got, err := readBack(fd, off, int64(len(want)))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("bytes %d..%d differ from the source", off, off+int64(len(want)))
	}
	return nil
}

// verify compares every extent by chunk id when the store can hash, else
// by content.
func (c *treeContent) verify(ctx context.Context, fd int) error {
	n := c.f.n
	if n.inline != nil {
		return compareAt(fd, 0, n.inline)
	}
	h, _ := c.f.r.(ChunkHasher)
	return c.f.Extents(func(x Extent) error {
		if h == nil {
			data, err := c.f.chunk(ctx, &x)
			if err != nil {
				return err
			}
			return compareAt(fd, x.Off, data)
		}
		got, err := readBack(fd, x.Off, x.Len)
		if err != nil {
			return err
		}
		if h.ChunkID(got) != x.ID {
			return fmt.Errorf("bytes %d..%d differ from chunk %s", x.Off, x.Off+x.Len, x.ID)
		}
		return nil
	})
}
