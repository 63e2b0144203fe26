package vmdisk

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/rewind-backup/rewind/blockstore"
)

// blockJob is one 4 MiB block moving through the backup pipeline.
type blockJob struct {
	idx     int64
	n       int      // block length
	read    []extent // source ranges to read; nil: id is already known
	prev    blockstore.ID
	compare bool     // hash-compare: skip the put when the id equals prev
	merge   bool     // bitmap: start from prev's block, zero overlay, then read
	overlay []extent // dirty ranges replaced in a merge
	id      blockstore.ID
	isNew   bool // stored as a new chunk
	stored  int  // encoded bytes appended
	buf     []byte
	done    chan struct{}
}

// pipeline is a planner, a reader, N hashers/encoders and an in-order
// collector joined by bounded channels; at most workers+3 block buffers exist.
type pipeline struct {
	s    *session
	w    ChunkWriter
	st   Store
	opts BackupOptions
	mw   *mapWriter
	bufs chan []byte
	nbuf int

	bytesRead int64 // reader goroutine only
	stored    int64 // collector goroutine only
	blocksNew int64
}

func (p *pipeline) run(ctx context.Context) (blockstore.ID, error) {
	workers := p.opts.Workers
	if workers <= 0 {
		workers = 2
	}
	p.mw = newMapWriter(p.w)
	p.nbuf = workers + 3
	p.bufs = make(chan []byte, p.nbuf)
	g, gctx := errgroup.WithContext(ctx)
	plan := make(chan *blockJob, 8)
	work := make(chan *blockJob, workers)
	order := make(chan *blockJob, p.nbuf+8)
	g.Go(func() error { defer close(plan); return p.plan(gctx, plan) })
	g.Go(func() error { defer close(work); defer close(order); return p.reader(gctx, plan, work, order) })
	for range workers {
		g.Go(func() error { return p.hasher(gctx, work) })
	}
	var root blockstore.ID
	g.Go(func() (err error) { root, err = p.collect(gctx, order); return err })
	if err := g.Wait(); err != nil {
		return blockstore.ID{}, err
	}
	return root, nil
}

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// getBuf returns a block buffer, allocating up to nbuf of them.
func (p *pipeline) getBuf(ctx context.Context, allocated *int) ([]byte, error) {
	if *allocated < p.nbuf {
		select {
		case b := <-p.bufs:
			return b, nil
		default:
		}
		*allocated++
		return make([]byte, BlockSize), nil
	}
	select {
	case b := <-p.bufs:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pipeline) reader(ctx context.Context, plan <-chan *blockJob, work, order chan<- *blockJob) error {
	allocated := 0
	for j := range plan {
		if err := send(ctx, order, j); err != nil {
			return err
		}
		if j.read == nil && !j.merge {
			close(j.done)
			continue
		}
		buf, err := p.getBuf(ctx, &allocated)
		if err != nil {
			return err
		}
		j.buf = buf[:j.n]
		if err := p.readBlock(ctx, j); err != nil {
			return err
		}
		if err := send(ctx, work, j); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// readBlock fills j.buf: listed ranges from the source, zeros elsewhere.
func (p *pipeline) readBlock(ctx context.Context, j *blockJob) error {
	base := j.idx * BlockSize
	if !j.merge {
		clear(j.buf)
	}
	for _, e := range j.read {
		for off := e.off; off < e.end(); {
			n := min(e.end()-off, 1<<20)
			if lim := p.opts.ReadLimiter; lim != nil {
				if err := lim.WaitN(ctx, int(n)); err != nil {
					return fmt.Errorf("read limiter: %w", err)
				}
			}
			if err := p.s.src.ReadAt(ctx, j.buf[off-base:off-base+n], off); err != nil {
				return err
			}
			p.bytesRead += n
			off += n
		}
	}
	return nil
}

// mergeBase completes a merge job in a hasher: the reader filled only the
// dirty data ranges; the rest of the block comes from the previous point's
// block, dirty ranges without data become zeros.
func (p *pipeline) mergeBase(ctx context.Context, j *blockJob) error {
	base := j.idx * BlockSize
	var prev []byte
	if j.prev != zeroID {
		data, err := p.st.Get(ctx, j.prev)
		if err != nil {
			return fmt.Errorf("previous point block %d: %w", j.idx, err)
		}
		if len(data) != j.n {
			return fmt.Errorf("previous point block %d: chunk holds %d bytes, want %d: %w", j.idx, len(data), j.n, blockstore.ErrCorruption)
		}
		prev = data
	}
	for _, k := range subtract([]extent{{base, int64(j.n)}}, j.overlay) {
		if prev != nil {
			copy(j.buf[k.off-base:k.end()-base], prev[k.off-base:])
		} else {
			clear(j.buf[k.off-base : k.end()-base])
		}
	}
	for _, z := range subtract(j.overlay, j.read) {
		clear(j.buf[z.off-base : z.end()-base])
	}
	return nil
}

// subtract returns the parts of the sorted extents a not covered by the
// sorted extents b.
func subtract(a, b []extent) []extent {
	var out []extent
	for _, x := range a {
		pos := x.off
		for _, y := range b {
			if y.end() <= pos || y.off >= x.end() {
				continue
			}
			if y.off > pos {
				out = append(out, extent{pos, y.off - pos})
			}
			pos = max(pos, y.end())
		}
		if pos < x.end() {
			out = append(out, extent{pos, x.end() - pos})
		}
	}
	return out
}

func (p *pipeline) hasher(ctx context.Context, work <-chan *blockJob) error {
	for j := range work {
		if err := p.encode(ctx, j); err != nil {
			return err
		}
		close(j.done)
	}
	return nil
}

// encode turns a read block into its map entry, storing it unless it is all
// zeros or (hash-compare) unchanged.
func (p *pipeline) encode(ctx context.Context, j *blockJob) error {
	if j.merge {
		if err := p.mergeBase(ctx, j); err != nil {
			return err
		}
	}
	if isZero(j.buf) {
		j.id = zeroID
		return nil
	}
	if j.compare {
		if id := p.st.ChunkID(j.buf); id == j.prev {
			j.id = id
			return nil
		}
	}
	res, err := p.w.Put(ctx, j.buf)
	if err != nil {
		return fmt.Errorf("store block %d: %w", j.idx, err)
	}
	j.id = res.ID
	j.isNew, j.stored = res.New, res.Stored
	return nil
}

func isZero(b []byte) bool { return string(b) == string(zeroBlock[:len(b)]) }

func (p *pipeline) collect(ctx context.Context, order <-chan *blockJob) (blockstore.ID, error) {
	size := p.s.src.Size()
	var done int64
	for j := range order {
		select {
		case <-j.done:
		case <-ctx.Done():
			return blockstore.ID{}, ctx.Err()
		}
		p.account(j)
		if err := p.mw.add(ctx, j.id); err != nil {
			return blockstore.ID{}, err
		}
		if j.buf != nil {
			p.bufs <- j.buf[:BlockSize]
		}
		done = min(size, (j.idx+1)*BlockSize)
		if p.opts.Progress != nil {
			p.opts.Progress(done, size)
		}
	}
	if err := ctx.Err(); err != nil {
		return blockstore.ID{}, err
	}
	return p.mw.finish(ctx, size, p.s.state)
}

// account adds a finished job's storage to the totals.
func (p *pipeline) account(j *blockJob) {
	if j.isNew {
		p.blocksNew++
	}
	p.stored += int64(j.stored)
}
