package vmdisk

import (
	"context"
	"fmt"
)

// planWindow is how many blocks one allocation/dirty query covers (1 GiB).
const planWindow = 256

// plan emits one job per block of the disk, in order.
func (p *pipeline) plan(ctx context.Context, out chan<- *blockJob) error {
	size := p.s.src.Size()
	nblk := blocksFor(size)
	var cur *mapCursor
	if p.s.prevMap != nil {
		cur = newMapCursor(p.st, p.s.prevMap)
	}
	for w := int64(0); w < nblk; w += planWindow {
		start, end := w*BlockSize, min(size, (w+planWindow)*BlockSize)
		data, dirty, err := p.queryWindow(ctx, start, end)
		if err != nil {
			return err
		}
		for i := w; i < min(nblk, w+planWindow); i++ {
			j, err := p.planBlock(ctx, cur, i, data, dirty)
			if err != nil {
				return err
			}
			if err := send(ctx, out, j); err != nil {
				return err
			}
		}
	}
	return nil
}

// queryWindow asks the source which ranges of [start, end) hold data and,
// with a bitmap, which changed.
func (p *pipeline) queryWindow(ctx context.Context, start, end int64) (data, dirty []extent, err error) {
	if data, err = p.s.src.Data(ctx, start, end-start); err != nil {
		return nil, nil, fmt.Errorf("allocation map at %d: %w", start, err)
	}
	if p.s.dirty != nil {
		if dirty, err = p.s.dirty.Dirty(ctx, start, end-start); err != nil {
			return nil, nil, fmt.Errorf("dirty bitmap at %d: %w", start, err)
		}
	}
	return data, dirty, nil
}

// planBlock decides whether block i is read or taken from the previous map.
func (p *pipeline) planBlock(ctx context.Context, cur *mapCursor, i int64, data, dirty []extent) (*blockJob, error) {
	size := p.s.src.Size()
	j := &blockJob{idx: i, n: blockLen(size, i), done: make(chan struct{})}
	start, end := i*BlockSize, i*BlockSize+int64(j.n)
	inPrev := cur != nil && i < cur.nblks && blockLen(p.s.prevMap.size, i) == j.n
	if inPrev {
		id, err := cur.entry(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("previous point: %w", err)
		}
		j.prev = id
		if !p.changedBlock(i, start, end, dirty) {
			j.id = id
			return j, nil
		}
		j.compare = p.s.method == MethodHashCompare
		if p.s.method == MethodBitmap {
			return planMerge(j, data, clip(dirty, start, end)), nil
		}
	}
	j.read = clip(data, start, end)
	if len(j.read) == 0 {
		j.read, j.id = nil, zeroID
	}
	return j, nil
}

// changedBlock reports whether block i of a previous point must be reread.
func (p *pipeline) changedBlock(i, start, end int64, dirty []extent) bool {
	switch p.s.method {
	case MethodBitmap:
		return len(clip(dirty, start, end)) > 0
	case MethodChangedBlocks:
		return p.s.changed.has(i)
	}
	return true
}

// planMerge makes a dirty block of a trusted bitmap read only its dirty
// ranges and take the rest from the previous point's block.
func planMerge(j *blockJob, data, dirty []extent) *blockJob {
	j.merge, j.overlay = true, dirty
	for _, d := range dirty {
		j.read = append(j.read, clip(data, d.off, d.end())...)
	}
	if j.prev == zeroID && len(j.read) == 0 {
		j.merge, j.read, j.id = false, nil, zeroID
	}
	return j
}
