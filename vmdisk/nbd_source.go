package vmdisk

import (
	"context"
	"fmt"
)

// nbdSource reads an NBD export; base:allocation (when granted) tells
// zero ranges and a qemu:dirty-bitmap context the changed ones.
type nbdSource struct {
	c      *nbdClient
	bitmap string // meta context name of the dirty bitmap, "" for none
}

func (s *nbdSource) Size() int64  { return s.c.size }
func (s *nbdSource) Close() error { return s.c.Close() }

func (s *nbdSource) ReadAt(ctx context.Context, p []byte, off int64) error {
	for len(p) > 0 {
		n := min(len(p), 32<<20)
		if err := s.c.Read(ctx, p[:n], off); err != nil {
			return err
		}
		p, off = p[n:], off+int64(n)
	}
	return nil
}

func (s *nbdSource) Data(ctx context.Context, off, n int64) ([]extent, error) {
	if _, ok := s.c.contexts[metaAllocation]; !ok {
		return []extent{{off, n}}, nil
	}
	return s.c.extents(ctx, metaAllocation, off, n, func(f uint32) bool { return f&nbdStateZero == 0 })
}

func (s *nbdSource) Dirty(ctx context.Context, off, n int64) ([]extent, error) {
	return s.c.extents(ctx, s.bitmap, off, n, func(f uint32) bool { return f&nbdStateDirty != 0 })
}

// extents returns the merged ranges of [off, off+n) whose status flags
// satisfy want, querying until the range is covered.
func (c *nbdClient) extents(ctx context.Context, name string, off, n int64, want func(uint32) bool) ([]extent, error) {
	var out []extent
	for pos, end := off, off+n; pos < end; {
		des, err := c.BlockStatus(ctx, name, pos, uint32(min(end-pos, 1<<30)))
		if err != nil {
			return nil, err
		}
		for _, d := range des {
			if want(d.flags) {
				out = appendMerged(out, d.extent)
			}
			pos = d.end()
		}
	}
	return out, nil
}

func appendMerged(es []extent, e extent) []extent {
	if k := len(es); k > 0 && es[k-1].end() == e.off {
		es[k-1].n += e.n
		return es
	}
	return append(es, e)
}

// openNBD connects to an NBD export and decides whether its bitmap is trusted.
func (s *session) openNBD(ctx context.Context, prev *Prev, opts BackupOptions) error {
	ctxs := []string{metaAllocation}
	if opts.Bitmap != "" {
		ctxs = append(ctxs, metaBitmapPfx+opts.Bitmap)
	}
	c, err := dialNBD(ctx, s.spec, ctxs)
	if err != nil {
		return err
	}
	src := &nbdSource{c: c, bitmap: metaBitmapPfx + opts.Bitmap}
	s.src = src
	if opts.Bitmap == "" {
		return nil
	}
	if opts.Checkpoint != "" {
		s.state = encodeState(sourceState{Kind: stateNBD, Bitmap: opts.Bitmap, Checkpoint: opts.Checkpoint})
	} else {
		s.warn("no checkpoint given with bitmap %q: the next backup cannot use a bitmap", opts.Bitmap)
	}
	if prev != nil {
		if why := s.nbdDistrust(c, prev, opts); why != "" {
			s.warn("dirty bitmap %q not trusted (%s): changed blocks found by hash comparison", opts.Bitmap, why)
		} else {
			s.dirty = src
		}
	}
	return nil
}

// nbdDistrust says why the exported bitmap cannot be used, "" when it can.
func (s *session) nbdDistrust(c *nbdClient, prev *Prev, opts BackupOptions) string {
	if _, ok := c.contexts[metaBitmapPfx+opts.Bitmap]; !ok {
		return fmt.Sprintf("the export does not offer %s%s", metaBitmapPfx, opts.Bitmap)
	}
	ps, err := decodeState(prev.SourceState)
	switch {
	case err != nil:
		return err.Error()
	case ps.Kind != stateNBD || ps.Checkpoint == "":
		return "the previous point recorded no NBD checkpoint"
	case opts.BitmapSince != ps.Checkpoint:
		return fmt.Sprintf("it counts from checkpoint %q but the previous point is checkpoint %q", opts.BitmapSince, ps.Checkpoint)
	}
	return ""
}
