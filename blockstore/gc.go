package blockstore

import (
	"context"
	"fmt"
	"time"
)

// gcChunk is one index entry seen by the sweep.
type gcChunk struct {
	id  ID
	loc location
}

// gcSegment is one committed segment and the chunks the index places in it.
type gcSegment struct {
	id        uint64
	rec       segRecord
	chunks    []gcChunk
	liveBytes int64
}

// GC deletes every chunk live does not yield and that no open Writer holds.
// Marked: ids live yields, ids any open Writer has put or deduplicated
// against, and ids referenced by any Put while GC runs. Fully dead segments
// are deleted, mostly dead ones (< half live bytes) rewritten, and orphan
// shard objects (no segment record, older than this GC) removed.
func (s *Store) GC(ctx context.Context, live Enumerator) (GCStats, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	var st GCStats
	if err := s.checkOwner(ctx); err != nil {
		return st, fmt.Errorf("gc: %w", err)
	}
	startSeg, err := s.gcBegin()
	if err != nil {
		return st, err
	}
	defer s.gcEnd()
	marks := map[ID]struct{}{}
	err = live(ctx, func(id ID) error { marks[id] = struct{}{}; return ctx.Err() })
	if err != nil {
		return st, fmt.Errorf("gc: enumerate live chunks: %w", err)
	}
	segs, err := s.gcPlan(marks, startSeg)
	if err != nil {
		return st, err
	}
	for _, g := range segs {
		if err := s.sweepSegment(ctx, &st, g, marks); err != nil {
			return st, err
		}
	}
	if err := s.deleteOrphans(ctx, &st, startSeg); err != nil {
		return st, err
	}
	return st, s.removeStaleTemps(ctx, &st)
}

// gcBegin snapshots open writers' references and starts recording new ones.
func (s *Store) gcBegin() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errStoreClosed
	}
	s.gcMarks = map[ID]struct{}{}
	for w := range s.writers {
		for id := range w.refs {
			s.gcMarks[id] = struct{}{}
		}
	}
	return s.segs.peek(), nil
}

func (s *Store) gcEnd() {
	s.mu.Lock()
	s.gcMarks = nil
	s.mu.Unlock()
}

func (s *Store) liveLocked(marks map[ID]struct{}, id ID) bool {
	_, a := marks[id]
	_, b := s.gcMarks[id]
	return a || b
}

// gcPlan groups the index by segment, for segments older than startSeg.
func (s *Store) gcPlan(marks map[ID]struct{}, startSeg uint64) ([]*gcSegment, error) {
	bySeg := map[uint64]*gcSegment{}
	var order []*gcSegment
	now := time.Now()
	err := s.forEachSegment(func(seg uint64, rec segRecord) error {
		if seg < startSeg && s.mayDelete(seg, now) {
			g := &gcSegment{id: seg, rec: rec}
			bySeg[seg] = g
			order = append(order, g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.scanPrefix(prefixChunk, func(key, val []byte) error {
		loc, err := decodeLocation(val)
		g := bySeg[loc.segment]
		if err != nil || g == nil {
			return nil // unreadable or young entries are left alone
		}
		var c gcChunk
		copy(c.id[:], key[len(prefixChunk):])
		c.loc = loc
		g.chunks = append(g.chunks, c)
		if _, ok := marks[c.id]; ok {
			g.liveBytes += int64(loc.length)
		}
		return nil
	})
	return order, err
}

func (s *Store) sweepSegment(ctx context.Context, st *GCStats, g *gcSegment, marks map[ID]struct{}) error {
	s.mu.Lock()
	var live int64
	for _, c := range g.chunks {
		if s.liveLocked(marks, c.id) {
			live += int64(c.loc.length)
		}
	}
	s.mu.Unlock()
	switch {
	case live == 0:
		return s.dropSegment(ctx, st, g, marks)
	case live*2 < g.rec.dataLen:
		return s.rewriteSegment(ctx, st, g, marks)
	}
	st.LiveChunks += len(g.chunks)
	return nil
}
