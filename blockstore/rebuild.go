package blockstore

import (
	"context"
	"errors"
	"fmt"
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
// the rest were indexed.
func (s *Store) RebuildIndex(ctx context.Context) error {
	k, err := s.keys()
	if err != nil {
		return err
	}
	segs, err := s.listSegments(ctx)
	if err != nil {
		return err
	}
	var maxNonce uint64
	var errs []error
	for _, seg := range segs {
		n, err := s.rebuildSegment(ctx, k, seg)
		maxNonce = max(maxNonce, n)
		errs = append(errs, err)
	}
	if len(segs) > 0 {
		errs = append(errs, s.segs.raise(segs[len(segs)-1]))
	}
	errs = append(errs, s.nonces.raise(maxNonce))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	s.needsRebuild.Store(false)
	return s.db.Delete(keyNeedsRebuild, pebble.Sync)
}

// listSegments returns the ids of every segment with a shard on any target.
func (s *Store) listSegments(ctx context.Context) ([]uint64, error) {
	seen := map[uint64]bool{}
	for _, t := range s.targets {
		err := t.List(ctx, "seg/", func(name string, _ int64) error {
			if seg, _, ok := parseShardName(name); ok {
				seen[seg] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]uint64, 0, len(seen))
	for seg := range seen {
		out = append(out, seg)
	}
	slices.Sort(out)
	return out, nil
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
