package blockstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// dropSegment deletes a fully dead segment: index entries and record first
// (one synced batch, under the store lock so no Put can dedupe against them
// meanwhile), then the shard objects.
func (s *Store) dropSegment(ctx context.Context, st *GCStats, g *gcSegment, marks map[ID]struct{}) error {
	s.mu.Lock()
	for _, c := range g.chunks {
		if s.liveLocked(marks, c.id) { // referenced since planning: keep all
			s.mu.Unlock()
			st.LiveChunks += len(g.chunks)
			return nil
		}
	}
	b := s.db.NewBatch()
	n, err := s.deleteEntriesLocked(b, g.id, g.chunks)
	if err == nil {
		b.Delete(segKey(g.id), nil)
		b.Delete(degradedKey(g.id), nil)
		err = b.Commit(pebble.Sync)
	}
	b.Close()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	st.DeadChunks += n
	st.SegmentsDeleted++
	return s.reclaim(ctx, st, g.id)
}

// deleteEntriesLocked adds deletes for chunks whose index entry still points
// into seg (a newer copy elsewhere is left alone).
func (s *Store) deleteEntriesLocked(b *pebble.Batch, seg uint64, chunks []gcChunk) (int, error) {
	n := 0
	for _, c := range chunks {
		loc, err := s.lookup(c.id)
		if errors.Is(err, ErrNotFound) || (err == nil && loc.segment != seg) {
			continue
		}
		if err != nil {
			return 0, err
		}
		b.Delete(chunkKey(c.id), nil)
		n++
	}
	return n, nil
}

// reclaim deletes seg's shard objects, counting their bytes.
func (s *Store) reclaim(ctx context.Context, st *GCStats, seg uint64) error {
	for i, t := range s.targets {
		if n, err := t.Stat(ctx, shardName(seg, i)); err == nil {
			st.BytesReclaimed += n
		}
	}
	return s.deleteShards(ctx, seg)
}

// rewriteSegment copies the live chunks of a mostly dead segment into a new
// segment, commits the new locations with the old record's removal, then
// deletes the old shards.
func (s *Store) rewriteSegment(ctx context.Context, st *GCStats, g *gcSegment, marks map[ID]struct{}) error {
	data, err := s.readSegment(ctx, g.id, 0, g.rec.dataLen)
	if err != nil {
		return err // an unreadable segment is left for Verify/Repair
	}
	keep, drop := s.partition(g.chunks, marks)
	newID, err := s.takeSegmentID()
	if err != nil {
		return err
	}
	buf, entries := copyEntries(data, keep)
	if failed, err := s.writeSegment(ctx, newID, buf); err != nil || len(failed) > 0 {
		s.deleteShards(ctx, newID) // a rewrite never trades a whole segment for a degraded one
		return errors.Join(err, fmt.Errorf("segment %016x: a shard target failed; the rewrite of %016x is left for later", newID, g.id))
	}
	s.mu.Lock()
	for _, c := range drop {
		if s.liveLocked(marks, c.id) { // became referenced: give up on this segment
			s.mu.Unlock()
			st.LiveChunks += len(g.chunks)
			return s.deleteShards(ctx, newID)
		}
	}
	var n int
	err = s.commitSegment(newID, int64(len(buf)), entries, func(b *pebble.Batch) (err error) {
		n, err = s.deleteEntriesLocked(b, g.id, drop)
		return errors.Join(err, b.Delete(segKey(g.id), nil), b.Delete(degradedKey(g.id), nil))
	})
	s.mu.Unlock()
	if err != nil {
		s.deleteShards(ctx, newID)
		return err
	}
	st.LiveChunks += len(keep)
	st.DeadChunks += n
	st.SegmentsRewritten++
	st.BytesReclaimed -= s.shardBytes(len(buf)) // net of the copy
	return s.reclaim(ctx, st, g.id)
}

// shardBytes is the approximate shard footprint of a segment of n bytes.
func (s *Store) shardBytes(n int) int64 {
	k := int64(s.layout.DataShards)
	S := (int64(n) + k - 1) / k
	return int64(len(s.targets)) * (S + shardHeaderLen + 4*((S+defaultBlockSize-1)/defaultBlockSize))
}

func (s *Store) partition(chunks []gcChunk, marks map[ID]struct{}) (keep, drop []gcChunk) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range chunks {
		if s.liveLocked(marks, c.id) {
			keep = append(keep, c)
		} else {
			drop = append(drop, c)
		}
	}
	return keep, drop
}

func copyEntries(data []byte, keep []gcChunk) ([]byte, []segEntry) {
	var buf []byte
	entries := make([]segEntry, 0, len(keep))
	for _, c := range keep {
		e := data[c.loc.offset : c.loc.offset+c.loc.length]
		entries = append(entries, segEntry{id: c.id, off: uint32(len(buf)), length: c.loc.length})
		buf = append(buf, e...)
	}
	return buf, entries
}

// deleteOrphans removes shard objects of segments older than this GC that
// have no segment record and are not being written (crash leftovers).
func (s *Store) deleteOrphans(ctx context.Context, st *GCStats, startSeg uint64) error {
	now := time.Now()
	for i, t := range s.targets {
		var names []string
		var sizes []int64
		err := t.List(ctx, "seg/", func(name string, size int64) error {
			seg, idx, ok := parseShardName(name)
			if ok && idx == i && seg < startSeg && s.mayDelete(seg, now) {
				names, sizes = append(names, name), append(sizes, size)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for j, name := range names {
			seg, _, _ := parseShardName(name)
			if orphan, err := s.isOrphan(seg); err != nil || !orphan {
				if err != nil {
					return err
				}
				continue
			}
			if err := t.Delete(ctx, name); err != nil {
				return err
			}
			st.OrphanObjectsDeleted++
			st.BytesReclaimed += sizes[j]
		}
	}
	return nil
}

func (s *Store) isOrphan(seg uint64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[seg] != nil {
		return false, nil
	}
	_, ok, err := getValue(s.db, segKey(seg))
	return !ok, err
}
