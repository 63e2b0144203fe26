package blockstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Verify checks shard checksums and parity consistency (no key needed); with
// readData it also decodes every chunk.
func (s *Store) Verify(ctx context.Context, readData bool) (*VerifyReport, error) {
	return s.scrub(ctx, readData, false)
}

// Repair rebuilds missing or corrupt shards from parity, writing new shard
// objects atomically, and returns what it found: BadShards were rewritten,
// Unrepairable segments had more than ParityShards bad shards.
func (s *Store) Repair(ctx context.Context) (*VerifyReport, error) {
	return s.scrub(ctx, false, true)
}

func (s *Store) scrub(ctx context.Context, readData, repair bool) (*VerifyReport, error) {
	var k *keys
	if readData {
		var err error
		if k, err = s.keys(); err != nil {
			return nil, err
		}
	}
	if repair {
		if err := s.checkOwner(ctx); err != nil {
			return nil, fmt.Errorf("repair: %w", err)
		}
	}
	r := &VerifyReport{}
	err := s.forEachSegment(func(seg uint64, rec segRecord) error {
		r.Segments++
		before, unrep := len(r.BadShards), len(r.Unrepairable)
		if err := s.scrubSegment(ctx, r, k, seg, rec, repair); err != nil {
			return err
		}
		bad := r.BadShards[before:]
		repaired := repair && len(r.Unrepairable) == unrep && !slices.ContainsFunc(bad, func(p ShardProblem) bool { return p.Shard < 0 })
		return s.noteScrub(seg, bad, repaired)
	})
	if err == nil {
		err = s.checkIndex(r)
	}
	return r, err
}

// checkIndex reports index entries that are malformed or name a segment
// without a record.
func (s *Store) checkIndex(r *VerifyReport) error {
	return s.scanPrefix(prefixChunk, func(key, val []byte) error {
		var id ID
		copy(id[:], key[len(prefixChunk):])
		loc, err := decodeLocation(val)
		if err != nil {
			r.BadChunks = append(r.BadChunks, ChunkProblem{ID: id, Reason: err.Error()})
			return nil
		}
		if _, ok, err := getValue(s.db, segKey(loc.segment)); err != nil || !ok {
			r.BadChunks = append(r.BadChunks, ChunkProblem{ID: id, Segment: loc.segment, Reason: "index names a segment without a record"})
			return err
		}
		return nil
	})
}

// forEachSegment calls fn for every committed segment record.
func (s *Store) forEachSegment(fn func(seg uint64, rec segRecord) error) error {
	var segs []uint64
	var recs []segRecord
	err := s.scanPrefix(prefixSeg, func(key, val []byte) error {
		rec, err := decodeSegRecord(val)
		if err != nil || len(key) != len(prefixSeg)+8 {
			return errors.Join(err, &CorruptionError{Reason: "bad segment record key"})
		}
		segs = append(segs, beUint64(key[len(prefixSeg):]))
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return err
	}
	for i, seg := range segs {
		if err := fn(seg, recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scrubSegment(ctx context.Context, r *VerifyReport, k *keys, seg uint64, rec segRecord, repair bool) error {
	shards, probs, err := s.loadShards(ctx, seg, rec.dataLen)
	if err != nil {
		return err
	}
	r.BadShards = append(r.BadShards, probs...)
	if len(probs) > s.layout.ParityShards {
		r.Unrepairable = append(r.Unrepairable, seg)
		return nil
	}
	if len(probs) == 0 && s.rs != nil {
		if ok, err := s.rs.Verify(shards); err != nil || !ok {
			r.BadShards = append(r.BadShards, ShardProblem{Segment: seg, Shard: -1, Reason: "parity inconsistent with data"})
		}
	}
	if len(probs) > 0 && s.rs != nil {
		if err := s.rs.Reconstruct(shards); err != nil {
			return fmt.Errorf("segment %016x: reconstruct: %w", seg, err)
		}
		if repair {
			if err := s.rewriteShards(ctx, seg, rec.dataLen, shards, probs); err != nil {
				return err
			}
		}
	}
	if k != nil {
		s.checkChunks(r, k, seg, joinData(shards[:s.layout.DataShards], rec.dataLen))
	}
	return nil
}

func (s *Store) rewriteShards(ctx context.Context, seg uint64, dataLen int64, shards [][]byte, probs []ShardProblem) error {
	for _, p := range probs {
		obj := encodeShard(seg, p.Shard, s.layout.DataShards, s.layout.ParityShards, dataLen, shards[p.Shard])
		if err := s.targets[p.Shard].Put(ctx, p.Object, obj); err != nil {
			return fmt.Errorf("repair %s: %w", p.Object, err)
		}
	}
	s.hdrs.dropSegment(seg, len(s.targets))
	return nil
}

func joinData(data [][]byte, n int64) []byte {
	out := make([]byte, 0, n)
	for _, d := range data {
		out = append(out, d...)
	}
	return out[:n]
}

// checkChunks decodes every entry of a segment's data.
func (s *Store) checkChunks(r *VerifyReport, k *keys, seg uint64, data []byte) {
	for off := 0; off < len(data); {
		e, err := parseEntry(data[off:])
		if err != nil {
			r.BadChunks = append(r.BadChunks, ChunkProblem{Segment: seg, Reason: fmt.Sprintf("offset %d: %v", off, err)})
			return
		}
		r.Chunks++
		if _, err := k.decodeEntry(data[off:off+e.length], e.id); err != nil {
			r.BadChunks = append(r.BadChunks, ChunkProblem{ID: e.id, Segment: seg, Reason: err.Error()})
		}
		off += e.length
	}
}

// loadShards reads and checks every shard of seg whole; bad ones are nil
// and reported. Only I/O errors other than a missing object are returned.
func (s *Store) loadShards(ctx context.Context, seg uint64, dataLen int64) ([][]byte, []ShardProblem, error) {
	k := int64(s.layout.DataShards)
	S := max((dataLen+k-1)/k, 1)
	shards := make([][]byte, len(s.targets))
	var probs []ShardProblem
	for i := range s.targets {
		data, reason, err := s.loadShard(ctx, seg, i, dataLen, S)
		if err != nil {
			return nil, nil, err
		}
		if reason != "" {
			probs = append(probs, ShardProblem{Segment: seg, Shard: i, Object: shardName(seg, i), Reason: reason})
			continue
		}
		shards[i] = data
	}
	return shards, probs, nil
}

func (s *Store) loadShard(ctx context.Context, seg uint64, i int, dataLen, S int64) ([]byte, string, error) {
	name := shardName(seg, i)
	size, err := s.targets[i].Stat(ctx, name)
	if errors.Is(err, ErrNotExist) {
		return nil, "missing", nil
	}
	if err != nil {
		return nil, "", err
	}
	want := &shardHeader{segment: seg, index: i, k: s.layout.DataShards, m: s.layout.ParityShards,
		shardLen: S, dataLen: dataLen, block: defaultBlockSize}
	if size < shardHeaderLen || size > want.prefixLen()+S+maxShardSlack {
		return nil, fmt.Sprintf("size %d, want %d", size, want.prefixLen()+S), nil
	}
	buf := make([]byte, size)
	if err := s.targets[i].ReadAt(ctx, name, buf, 0); err != nil {
		return nil, "", err
	}
	return checkShardObject(buf, want)
}

// maxShardSlack tolerates block sizes other than the default when sizing reads.
const maxShardSlack = 1 << 20

// checkShardObject returns the shard data or why it is bad.
func checkShardObject(buf []byte, want *shardHeader) ([]byte, string, error) {
	h, err := decodeShardPrefix(buf)
	if err != nil {
		return nil, err.Error(), nil
	}
	if h.segment != want.segment || h.index != want.index || h.k != want.k || h.m != want.m ||
		h.shardLen != want.shardLen || h.dataLen != want.dataLen {
		return nil, "header does not match the segment record", nil
	}
	if int64(len(buf)) != h.prefixLen()+h.shardLen {
		return nil, fmt.Sprintf("object is %d bytes, want %d", len(buf), h.prefixLen()+h.shardLen), nil
	}
	data := buf[h.prefixLen():]
	if err := h.checkBlocks(data, 0); err != nil {
		return nil, err.Error(), nil
	}
	return data, "", nil
}
