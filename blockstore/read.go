package blockstore

import (
	"context"
	"errors"
	"fmt"
)

// Get returns a committed chunk's plaintext, verified against its id. Missing
// or corrupt shards are reconstructed from parity; beyond that a
// *CorruptionError names segment and chunk.
func (s *Store) Get(ctx context.Context, id ID) ([]byte, error) {
	k, err := s.keys()
	if err != nil {
		return nil, err
	}
	loc, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	data, err := s.getAt(ctx, k, id, loc)
	if err != nil && ctx.Err() == nil {
		// A GC rewrite may have moved the chunk and deleted the old segment.
		if loc2, lerr := s.lookup(id); lerr == nil && loc2 != loc {
			return s.getAt(ctx, k, id, loc2)
		}
	}
	return data, err
}

func (s *Store) getAt(ctx context.Context, k *keys, id ID, loc location) ([]byte, error) {
	entry, err := s.readSegment(ctx, loc.segment, int64(loc.offset), int64(loc.length))
	if err == nil {
		var data []byte
		if data, err = k.decodeEntry(entry, id); err == nil {
			return data, nil
		}
	}
	var ce *CorruptionError
	if errors.As(err, &ce) {
		ce.Segment, ce.Chunk = loc.segment, id
	}
	return nil, fmt.Errorf("get chunk %s: %w", id, err)
}

// Has reports whether id is committed.
func (s *Store) Has(ctx context.Context, id ID) (bool, error) {
	_, ok, err := getValue(s.db, chunkKey(id))
	return ok, err
}

func (s *Store) lookup(id ID) (location, error) {
	v, ok, err := getValue(s.db, chunkKey(id))
	if err != nil {
		return location{}, err
	}
	if !ok {
		return location{}, fmt.Errorf("chunk %s: %w", id, ErrNotFound)
	}
	l, err := decodeLocation(v)
	if err != nil {
		return l, fmt.Errorf("chunk %s: %w", id, err)
	}
	return l, nil
}

// readSegment returns segment bytes [off, off+n), from the data shards where
// they are intact and reconstructed from the other shards where not.
func (s *Store) readSegment(ctx context.Context, seg uint64, off, n int64) ([]byte, error) {
	geo, err := s.geometry(ctx, seg)
	if err != nil {
		return nil, err
	}
	if off < 0 || n < 0 || off+n > geo.dataLen {
		return nil, &CorruptionError{Segment: seg, Reason: fmt.Sprintf("range %d+%d beyond segment length %d", off, n, geo.dataLen)}
	}
	S := geo.shardLen
	var out []byte
	for pos := off; pos < off+n; {
		i := pos / S
		a, b := pos-i*S, min(off+n-i*S, S)
		part, err := s.readShardRange(ctx, seg, int(i), a, b)
		if err != nil && ctx.Err() == nil {
			part, err = s.reconstructRange(ctx, geo, int(i), a, b)
		}
		if err != nil {
			return nil, err
		}
		if out == nil && i*S+b >= off+n {
			return part, nil // one shard held it all: no copy
		}
		if out == nil {
			out = make([]byte, 0, n)
		}
		out = append(out, part...)
		pos = i*S + b
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// geometry returns the header of the first readable shard of seg.
func (s *Store) geometry(ctx context.Context, seg uint64) (*shardHeader, error) {
	var errs []error
	for i := range s.targets {
		h, err := s.header(ctx, seg, i)
		if err == nil {
			return h, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, &CorruptionError{Segment: seg, Reason: fmt.Sprintf("no readable shard: %v", errors.Join(errs...))}
}

// readShardRange reads shard bytes [a, b) via whole checksum blocks.
func (s *Store) readShardRange(ctx context.Context, seg uint64, i int, a, b int64) ([]byte, error) {
	h, err := s.header(ctx, seg, i)
	if err != nil {
		return nil, err
	}
	A := a / h.block * h.block
	E := min((b+h.block-1)/h.block*h.block, h.shardLen)
	buf := make([]byte, E-A)
	name := shardName(seg, i)
	if err := s.targets[i].ReadAt(ctx, name, buf, h.prefixLen()+A); err != nil {
		return nil, err
	}
	if err := h.checkBlocks(buf, A); err != nil {
		return nil, &CorruptionError{Segment: seg, Object: name, Reason: err.Error()}
	}
	return buf[a-A : b-A], nil
}

// reconstructRange rebuilds data shard i's bytes [a, b) from the same
// block-aligned range of k other shards (Reed-Solomon works column-wise).
func (s *Store) reconstructRange(ctx context.Context, geo *shardHeader, i int, a, b int64) ([]byte, error) {
	k := s.layout.DataShards
	A := a / geo.block * geo.block
	E := min((b+geo.block-1)/geo.block*geo.block, geo.shardLen)
	shards := make([][]byte, len(s.targets))
	good := 0
	for j := 0; j < len(shards) && good < k; j++ {
		if j == i {
			continue
		}
		if buf, err := s.readShardRange(ctx, geo.segment, j, A, E); err == nil {
			shards[j] = buf
			good++
		}
	}
	if good < k || s.rs == nil {
		return nil, &CorruptionError{Segment: geo.segment, Reason: fmt.Sprintf(
			"shard %d unreadable and only %d other shards readable, %d needed", i, good, k)}
	}
	if err := s.rs.ReconstructData(shards); err != nil {
		return nil, &CorruptionError{Segment: geo.segment, Reason: "reconstruct: " + err.Error()}
	}
	return shards[i][a-A : b-A], nil
}
