package fileshare

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// verify re-reads a restored file and compares every extent with the
// point: by chunk id when the reader can hash (Store.ChunkID), else by
// content. Holes are not re-read.
func (rs *restorer) verify(ctx context.Context, fd int, n *Node, rel string) {
	rs.verified.Add(1)
	if err := rs.verifyFile(ctx, fd, n); err != nil {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if ctx.Err() == nil && len(rs.res.Mismatches) < maxWarnings {
			rs.res.Mismatches = append(rs.res.Mismatches, fmt.Sprintf("%s: %v", showPath(rel), err))
		}
	}
}

func (rs *restorer) verifyFile(ctx context.Context, fd int, n *Node) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Size != n.Size {
		return fmt.Errorf("size %d, the point says %d", st.Size, n.Size)
	}
	if n.inline != nil {
		return rs.compare(ctx, fd, Extent{Len: n.Size}, n.inline)
	}
	f, err := openFile(ctx, rs.t.r, n)
	if err != nil {
		return err
	}
	return f.Extents(func(x Extent) error { return rs.compare(ctx, fd, x, nil) })
}

// compare checks the restored bytes of x against its chunk id, or against
// want (inline data, or the chunk fetched when no hasher is available).
func (rs *restorer) compare(ctx context.Context, fd int, x Extent, want []byte) error {
	got := make([]byte, x.Len)
	k, err := unix.Pread(fd, got, x.Off)
	if err != nil {
		return fmt.Errorf("read back at %d: %w", x.Off, err)
	}
	if int64(k) != x.Len {
		return fmt.Errorf("read back at %d: %w", x.Off, io.ErrUnexpectedEOF)
	}
	if want == nil && rs.hasher != nil {
		if rs.hasher.ChunkID(got) != x.ID {
			return fmt.Errorf("bytes %d..%d differ from chunk %s", x.Off, x.Off+x.Len, x.ID)
		}
		return nil
	}
	if want == nil {
		if want, err = rs.t.r.Get(ctx, x.ID); err != nil {
			return err
		}
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("bytes %d..%d differ from the point", x.Off, x.Off+x.Len)
	}
	return nil
}
