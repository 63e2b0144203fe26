package blockstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// prefixDegraded keys b/d/<segment, 8 bytes big-endian> mark a segment that
// lacks shards: written while a target failed, or found damaged by the last
// verify. The value is the list of missing shard indices (one byte each).
// Verify and repair set or clear the mark from what they find.
var prefixDegraded = []byte("b/d/")

func degradedKey(seg uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte{}, prefixDegraded...), seg)
}

// minShardsWritten is the placement rule: a segment is committed with
// failed shards only while it keeps at least one shard of redundancy
// (k+1 of k+m shards written); with no parity every shard is needed.
func (s *Store) minShardsWritten() int {
	if s.layout.ParityShards == 0 {
		return s.layout.DataShards
	}
	return s.layout.DataShards + 1
}

// checkShardWrites applies the placement rule to the per-shard results of a
// segment write: it returns the failed shard indices when the segment may be
// committed degraded, or an error naming every failed target.
func (s *Store) checkShardWrites(id uint64, errs []error) ([]int, error) {
	var failed []int
	for i, err := range errs {
		if err != nil {
			failed = append(failed, i)
		}
	}
	if len(failed) == 0 {
		return nil, nil
	}
	joined := errors.Join(errs...)
	if len(errs)-len(failed) < s.minShardsWritten() {
		return nil, fmt.Errorf("segment %016x: write shards: %d of %d targets failed, at least %d must succeed: %w",
			id, len(failed), len(errs), s.minShardsWritten(), joined)
	}
	for _, i := range failed {
		slog.Error("shard target failed; the segment is written degraded (run \"rewind repair\" once the target is back)",
			"segment", fmt.Sprintf("%016x", id), "shard", i, "target", s.targets[i].Name(), "err", errs[i])
	}
	return failed, nil
}

// markDegraded adds the degraded mark of segment id to b.
func markDegraded(b *pebble.Batch, id uint64, shards []int) error {
	v := make([]byte, len(shards))
	for i, sh := range shards {
		v[i] = byte(sh)
	}
	return b.Set(degradedKey(id), v, nil)
}

// noteScrub records what a verify or repair found for seg: shards still
// missing or corrupt keep (or set) its degraded mark; none clear it.
func (s *Store) noteScrub(seg uint64, bad []ShardProblem, repaired bool) error {
	_, marked, err := getValue(s.db, degradedKey(seg))
	if err != nil {
		return err
	}
	var shards []int
	for _, p := range bad {
		if p.Shard >= 0 {
			shards = append(shards, p.Shard)
		}
	}
	switch {
	case len(bad) > 0 && !repaired:
		if len(shards) == 0 {
			shards = []int{0xff} // parity inconsistent: no single shard to name
		}
		b := s.db.NewBatch()
		defer b.Close()
		if err := markDegraded(b, seg, shards); err != nil {
			return err
		}
		return b.Commit(pebble.Sync)
	case marked:
		return s.db.Delete(degradedKey(seg), pebble.Sync)
	}
	return nil
}

// DegradedSegments counts segments marked degraded (missing shards since
// they were written, or found damaged by the last verify and not repaired).
// A degraded segment is still readable from parity but has less redundancy.
func (s *Store) DegradedSegments(ctx context.Context) (int, error) {
	n := 0
	err := s.scanPrefix(prefixDegraded, func(key, val []byte) error {
		n++
		return ctx.Err()
	})
	return n, err
}
