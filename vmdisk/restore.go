package vmdisk

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/rewind-backup/rewind/blockstore"
)

// sink is a restore target.
type sink interface {
	WriteAt(ctx context.Context, p []byte, off int64) error
	// Zero makes [off, off+n) read as zeros (a hole where possible).
	Zero(ctx context.Context, off, n int64) error
	ReadAt(ctx context.Context, p []byte, off int64) error
	Sync(ctx context.Context) error
	Close() error
}

// Restore writes disk point root to target: a new raw file (sparse: zero
// blocks stay holes), an existing file or block device (Force needed when it
// is opts.OriginalSource, a non-empty file, or a device holding a partition
// table or file-system signature; refused while another process holds it open),
// "nbd://…"/"nbd+unix://…" exports, or with Format "qcow2" a new qcow2 file
// (made with qemu-img convert). With Verify every block is read back and
// compared by chunk id.
func Restore(ctx context.Context, r ChunkReader, root blockstore.ID, target string, opts RestoreOptions) (*RestoreResult, error) {
	m, err := loadRoot(ctx, r, root)
	if err != nil {
		return nil, err
	}
	if opts.Verify {
		if _, ok := r.(ChunkHasher); !ok {
			return nil, errNoHasher
		}
	}
	switch {
	case opts.Format == "qcow2" && sourceKind(target) == "nbd":
		return nil, fmt.Errorf("restore to %s: an NBD export takes raw data; drop --format qcow2", target)
	case opts.Format == "qcow2":
		return restoreQcow2(ctx, r, m, target, opts)
	case opts.Format != "" && opts.Format != "raw":
		return nil, fmt.Errorf("restore format %q: want raw or qcow2", opts.Format)
	}
	if err := checkTarget(target, opts); err != nil {
		return nil, err
	}
	s, err := openSink(ctx, target, m.size, opts)
	if err != nil {
		return nil, err
	}
	res, err := restoreTo(ctx, r, m, s, opts)
	if fs, ok := s.(*fileSink); ok && err != nil && fs.fresh {
		if derr := fs.discard(opts.Dir); derr != nil {
			err = fmt.Errorf("%w (and the partial file could not be removed: %v)", err, derr)
		}
	}
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", target, cerr)
	}
	if err != nil {
		return nil, fmt.Errorf("restore to %s: %w", target, err)
	}
	return res, nil
}

func openSink(ctx context.Context, target string, size int64, opts RestoreOptions) (sink, error) {
	if sourceKind(target) == "nbd" {
		return openNBDSink(ctx, target, size)
	}
	return openTargetSink(target, size, opts)
}

// restoreTo copies every block of m into s, then syncs and optionally verifies.
func restoreTo(ctx context.Context, r ChunkReader, m *mapRoot, s sink, opts RestoreOptions) (*RestoreResult, error) {
	rr := &restorer{r: r, m: m, s: s, opts: opts}
	if err := rr.run(ctx, rr.writeBlock); err != nil {
		return nil, err
	}
	if err := s.Sync(ctx); err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	res := &RestoreResult{Size: m.size, BytesWritten: rr.written.Load()}
	if opts.Verify {
		rr.done.Store(0)
		if err := rr.run(ctx, rr.verifyBlock); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		res.Verified = true
	}
	return res, nil
}

// restorer walks a block map with a few workers.
type restorer struct {
	r       ChunkReader
	m       *mapRoot
	s       sink
	opts    RestoreOptions
	written atomic.Int64
	done    atomic.Int64
	progMu  sync.Mutex
}

var blockPool = sync.Pool{New: func() any { b := make([]byte, BlockSize); return &b }}

type restoreJob struct {
	idx int64
	id  blockstore.ID
}

func (rr *restorer) run(ctx context.Context, do func(context.Context, restoreJob) error) error {
	workers := max(rr.opts.Workers, 2)
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan restoreJob, workers)
	g.Go(func() error { defer close(jobs); return rr.feed(gctx, jobs) })
	for range workers {
		g.Go(func() error {
			for j := range jobs {
				if err := do(gctx, j); err != nil {
					return err
				}
				rr.progress(j.idx)
				if err := gctx.Err(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func (rr *restorer) feed(ctx context.Context, jobs chan<- restoreJob) error {
	cur := newMapCursor(rr.r, rr.m)
	for i := range cur.nblks {
		id, err := cur.entry(ctx, i)
		if err != nil {
			return err
		}
		if err := send(ctx, jobs, restoreJob{i, id}); err != nil {
			return err
		}
	}
	return nil
}

func (rr *restorer) progress(i int64) {
	n := rr.done.Add(int64(blockLen(rr.m.size, i)))
	if rr.opts.Progress != nil {
		rr.progMu.Lock()
		rr.opts.Progress(n, rr.m.size)
		rr.progMu.Unlock()
	}
}

// getBlock fetches block i's data and checks its length.
func (rr *restorer) getBlock(ctx context.Context, j restoreJob) ([]byte, error) {
	data, err := rr.r.Get(ctx, j.id)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", j.idx, err)
	}
	if want := blockLen(rr.m.size, j.idx); len(data) != want {
		return nil, fmt.Errorf("block %d: chunk %s holds %d bytes, want %d: %w", j.idx, j.id, len(data), want, blockstore.ErrCorruption)
	}
	return data, nil
}

func (rr *restorer) writeBlock(ctx context.Context, j restoreJob) error {
	off, n := j.idx*BlockSize, blockLen(rr.m.size, j.idx)
	if j.id == zeroID {
		return rr.s.Zero(ctx, off, int64(n))
	}
	data, err := rr.getBlock(ctx, j)
	if err != nil {
		return err
	}
	if err := rr.s.WriteAt(ctx, data, off); err != nil {
		return err
	}
	rr.written.Add(int64(n))
	return nil
}

func (rr *restorer) verifyBlock(ctx context.Context, j restoreJob) error {
	off, n := j.idx*BlockSize, blockLen(rr.m.size, j.idx)
	if h, ok := rr.s.(interface{ Hole(off, n int64) bool }); ok && j.id == zeroID && h.Hole(off, int64(n)) {
		return nil
	}
	bp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bp)
	buf := (*bp)[:n]
	if err := rr.s.ReadAt(ctx, buf, off); err != nil {
		return err
	}
	if j.id == zeroID {
		if !isZero(buf) {
			return fmt.Errorf("block %d at offset %d should be all zeros but is not: the target does not match the point", j.idx, off)
		}
		return nil
	}
	if got := rr.r.(ChunkHasher).ChunkID(buf); got != j.id {
		return fmt.Errorf("block %d at offset %d reads back as %s, the point has %s: the target does not match the point", j.idx, off, got, j.id)
	}
	return nil
}
