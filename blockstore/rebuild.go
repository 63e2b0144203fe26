package blockstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// keyNeedsRebuild is set by Attach: Put refuses to run until RebuildIndex has
// raised the nonce and segment counters above everything on the targets.
var keyNeedsRebuild = []byte("b/needs-rebuild")

var errNeedsRebuild = errors.New("blockstore: index was re-attached: run RebuildIndex before writing")

// RebuildIndex recreates the chunk index and segment records by reading every
// segment on the targets (after the Pebble database was lost). Every chunk is
// decoded and checked, so the store must be unlocked. Segments already
// recorded are skipped. Unreadable segments are reported in the error after
// the rest were indexed. Interrupted seals (see RebuildIndexReport) are not
// indexed and not an error.
func (s *Store) RebuildIndex(ctx context.Context) error {
	_, err := s.RebuildIndexReport(ctx)
	return err
}

// RebuildIndexReport is RebuildIndex that also returns the interrupted seals
// it left out: segments with fewer than DataShards shards on the targets
// that are among the newest of their epoch (the last writer died or was
// fenced while sealing them, before any catalog could reference them).
// Their shards are left in place; the GC epoch rule removes them later. A
// segment short of shards that is older than that is an error naming it.
func (s *Store) RebuildIndexReport(ctx context.Context) ([]uint64, error) {
	k, err := s.keys()
	if err != nil {
		return nil, err
	}
	counts, err := s.listSegments(ctx)
	if err != nil {
		return nil, err
	}
	segs := slices.Sorted(maps.Keys(counts))
	interrupted := interruptedSeals(segs, counts, s.layout.DataShards)
	var maxNonce uint64
	var errs []error
	var skipped []uint64
	for _, seg := range segs {
		if interrupted[seg] {
			if orphan, err := s.isOrphan(seg); err != nil || orphan {
				skipped = append(skipped, seg)
				errs = append(errs, err)
				continue
			}
		}
		n, err := s.rebuildSegment(ctx, k, seg)
		maxNonce = max(maxNonce, n)
		errs = append(errs, err)
	}
	if len(segs) > 0 {
		errs = append(errs, s.segs.raise(segs[len(segs)-1]))
	}
	errs = append(errs, s.nonces.raise(maxNonce))
	if err := errors.Join(errs...); err != nil {
		return skipped, fmt.Errorf("rebuild index: %w", err)
	}
	s.needsRebuild.Store(false)
	return skipped, s.db.Delete(keyNeedsRebuild, pebble.Sync)
}

// interruptedSeals picks the segments short of k shards among the newest
// maxSealsInFlight+1 ids of each epoch (the ones a writer can have had
// open or sealing when it stopped). segs is sorted.
func interruptedSeals(segs []uint64, counts map[uint64]int, k int) map[uint64]bool {
	out := map[uint64]bool{}
	seen := map[uint32]int{}
	for _, seg := range slices.Backward(segs) {
		e := EpochOf(seg)
		seen[e]++
		if seen[e] <= maxSealsInFlight+1 && counts[seg] < k {
			out[seg] = true
		}
	}
	return out
}

// listSegments returns how many shards of each segment are on the targets.
func (s *Store) listSegments(ctx context.Context) (map[uint64]int, error) {
	counts := map[uint64]int{}
	for _, t := range s.targets {
		err := t.List(ctx, "seg/", func(name string, _ int64) error {
			if seg, _, ok := parseShardName(name); ok {
				counts[seg]++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// rebuildSegment indexes one segment, returning its highest nonce.
func (s *Store) rebuildSegment(ctx context.Context, k *keys, seg uint64) (uint64, error) {
	if orphan, err := s.isOrphan(seg); err != nil || !orphan {
		return 0, err // recorded already, or still being sealed
	}
	geo, err := s.geometry(ctx, seg)
	if err != nil {
		return 0, err
	}
	data, err := s.readSegment(ctx, seg, 0, geo.dataLen)
	if err != nil {
		return 0, err
	}
	var maxNonce uint64
	var entries []segEntry
	for off := 0; off < len(data); {
		e, err := parseEntry(data[off:])
		if err != nil {
			return maxNonce, &CorruptionError{Segment: seg, Reason: fmt.Sprintf("entry at %d: %v", off, err)}
		}
		maxNonce = max(maxNonce, e.nonce)
		if _, err := k.decodeEntry(data[off:off+e.length], e.id); err != nil {
			return maxNonce, fmt.Errorf("segment %016x: %w", seg, err)
		}
		entries = append(entries, segEntry{id: e.id, off: uint32(off), length: uint32(e.length)})
		off += e.length
	}
	return maxNonce, s.commitSegment(seg, geo.dataLen, entries, nil)
}
