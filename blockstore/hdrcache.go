package blockstore

import (
	"context"
	"fmt"
	"sync"
)

// maxCachedHeaders bounds the parsed shard header cache (~600 bytes each).
const maxCachedHeaders = 8192

type shardRef struct {
	seg uint64
	i   int
}

type headerCache struct {
	mu sync.Mutex
	m  map[shardRef]*shardHeader
}

func (c *headerCache) get(r shardRef) *shardHeader {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[r]
}

func (c *headerCache) put(r shardRef, h *shardHeader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if len(c.m) < maxCachedHeaders {
			break
		}
		delete(c.m, k)
	}
	c.m[r] = h
}

func (c *headerCache) dropSegment(seg uint64, shards int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < shards; i++ {
		delete(c.m, shardRef{seg, i})
	}
}

// header returns shard i of seg's checked header and block table.
func (s *Store) header(ctx context.Context, seg uint64, i int) (*shardHeader, error) {
	r := shardRef{seg, i}
	if h := s.hdrs.get(r); h != nil {
		return h, nil
	}
	h, err := s.readHeader(ctx, seg, i)
	if err != nil {
		return nil, err
	}
	s.hdrs.put(r, h)
	return h, nil
}

func (s *Store) readHeader(ctx context.Context, seg uint64, i int) (*shardHeader, error) {
	name := shardName(seg, i)
	bad := func(r string) error { return &CorruptionError{Segment: seg, Object: name, Reason: r} }
	hdr := make([]byte, shardHeaderLen)
	if err := s.targets[i].ReadAt(ctx, name, hdr, 0); err != nil {
		return nil, err
	}
	h, err := parseShardHeader(hdr)
	if err != nil {
		return nil, bad(err.Error())
	}
	if h.segment != seg || h.index != i || h.k != s.layout.DataShards || h.m != s.layout.ParityShards {
		return nil, bad(fmt.Sprintf("header names segment %016x shard %d of %d+%d", h.segment, h.index, h.k, h.m))
	}
	tbl := make([]byte, h.prefixLen()-shardHeaderLen)
	if err := s.targets[i].ReadAt(ctx, name, tbl, shardHeaderLen); err != nil {
		return nil, err
	}
	if err := h.parseBlockTable(hdr, tbl); err != nil {
		return nil, bad(err.Error())
	}
	return h, nil
}
