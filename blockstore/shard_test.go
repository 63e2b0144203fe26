package blockstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shardPath is where the dir target keeps shard i of seg.
func shardPath(t *testing.T, ts []Target, seg uint64, i int) string {
	root := strings.TrimPrefix(ts[i].Name(), "dir:")
	return filepath.Join(root, filepath.FromSlash(shardName(seg, i)))
}

func segmentIDs(t *testing.T, s *Store) []uint64 {
	var out []uint64
	s.forEachSegment(func(seg uint64, _ segRecord) error { out = append(out, seg); return nil })
	return out
}

func (c *headerCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// hide moves shards away for the duration of fn.
func hide(t *testing.T, s *Store, ts []Target, segs []uint64, shards []int, fn func()) {
	for _, seg := range segs {
		for _, i := range shards {
			p := shardPath(t, ts, seg, i)
			if err := os.Rename(p, p+".away"); err != nil {
				t.Fatal(err)
			}
			defer os.Rename(p+".away", p)
		}
	}
	s.hdrs.clear()
	fn()
	s.hdrs.clear()
}

func TestAnyTwoShardsLost(t *testing.T) {
	s, _, ts := newTestStore(t, 300<<10)
	chunks := mixedChunks(5, 24, 70<<10)
	ids := putAllFlush(t, s, chunks)
	segs := segmentIDs(t, s)
	if len(segs) < 2 {
		t.Fatalf("want several segments, got %d", len(segs))
	}
	for a := 0; a < 6; a++ {
		for b := a + 1; b < 6; b++ {
			hide(t, s, ts, segs, []int{a, b}, func() { checkAll(t, s, ids, chunks) })
		}
	}
	hide(t, s, ts, segs, []int{0, 3, 5}, func() {
		_, err := s.Get(context.Background(), ids[0])
		var ce *CorruptionError
		if !errors.As(err, &ce) || ce.Segment == 0 || ce.Chunk != ids[0] {
			t.Fatalf("3 shards lost: got %v", err)
		}
		r, err := s.Verify(context.Background(), false)
		if err != nil || len(r.Unrepairable) != len(segs) {
			t.Fatalf("verify: %+v %v", r, err)
		}
	})
}

func flipByte(t *testing.T, path string, off int64) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0x5a
	f.WriteAt(b, off)
}

func TestFlipVerifyRepair(t *testing.T) {
	s, _, ts := newTestStore(t, 300<<10)
	ctx := context.Background()
	chunks := mixedChunks(6, 12, 60<<10)
	ids := putAllFlush(t, s, chunks)
	seg := segmentIDs(t, s)[0]
	flipByte(t, shardPath(t, ts, seg, 1), 5000) // shard data
	flipByte(t, shardPath(t, ts, seg, 4), 20)   // header
	s.hdrs.clear()
	checkAll(t, s, ids, chunks)
	r, err := s.Verify(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	named := map[int]bool{}
	for _, p := range r.BadShards {
		if p.Segment == seg {
			named[p.Shard] = true
		}
	}
	if !named[1] || !named[4] || len(r.BadShards) != 2 || r.Chunks != len(chunks) {
		t.Fatalf("verify: %+v", r)
	}
	if rr, err := s.Repair(ctx); err != nil || len(rr.BadShards) != 2 || len(rr.Unrepairable) != 0 {
		t.Fatalf("repair: %+v %v", rr, err)
	}
	if r, err := s.Verify(ctx, true); err != nil || !r.Clean() {
		t.Fatalf("after repair: %+v %v", r, err)
	}
	hide(t, s, ts, []uint64{seg}, []int{0, 2}, func() { checkAll(t, s, ids, chunks) })
}

func TestBadShardHeaders(t *testing.T) {
	s, _, ts := newTestStore(t, 1<<20)
	ctx := context.Background()
	chunks := mixedChunks(7, 6, 30<<10)
	ids := putAllFlush(t, s, chunks)
	seg := segmentIDs(t, s)[0]
	os.Truncate(shardPath(t, ts, seg, 0), 30)
	os.WriteFile(shardPath(t, ts, seg, 1), []byte(strings.Repeat("garbage!", 100)), 0o600)
	s.hdrs.clear()
	checkAll(t, s, ids, chunks)
	os.Truncate(shardPath(t, ts, seg, 2), shardHeaderLen+2)
	s.hdrs.clear()
	for _, id := range ids {
		_, err := s.Get(ctx, id)
		var ce *CorruptionError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorruption) || ce.Segment != seg || ce.Chunk != id {
			t.Fatalf("got %v", err)
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 10), make([]byte, 64), []byte(strings.Repeat("x", 200))} {
		if _, err := decodeShardPrefix(b); err == nil {
			t.Errorf("decoded garbage %q", b)
		}
	}
}

func TestShardNames(t *testing.T) {
	for _, seg := range []uint64{1, 0xabc, 1<<64 - 1} {
		for i := 0; i < 12; i++ {
			got, gi, ok := parseShardName(shardName(seg, i))
			if !ok || got != seg || gi != i {
				t.Fatalf("%d.%d", seg, i)
			}
		}
	}
	for _, n := range []string{"seg/1.2", "seg/000000000000000g.1", "seg/0000000000000001.x", "keys/master", "seg/0000000000000001.01"} {
		if _, _, ok := parseShardName(n); ok {
			t.Errorf("parsed %q", n)
		}
	}
	_ = fmt.Sprint
}

// TestVerifyParityMismatch rewrites a data shard with valid checksums but
// different bytes: only the parity comparison can notice.
func TestVerifyParityMismatch(t *testing.T) {
	s, _, ts := newTestStore(t, 1<<20)
	ctx := context.Background()
	putAllFlush(t, s, mixedChunks(8, 3, 20<<10))
	seg := segmentIDs(t, s)[0]
	name := shardName(seg, 2)
	n, _ := ts[2].Stat(ctx, name)
	obj := make([]byte, n)
	if err := ts[2].ReadAt(ctx, name, obj, 0); err != nil {
		t.Fatal(err)
	}
	h, err := decodeShardPrefix(obj)
	if err != nil {
		t.Fatal(err)
	}
	data := append([]byte{}, obj[h.prefixLen():]...)
	data[10] ^= 1
	if err := ts[2].Put(ctx, name, encodeShard(seg, 2, 4, 2, h.dataLen, data)); err != nil {
		t.Fatal(err)
	}
	r, err := s.Verify(ctx, false)
	if err != nil || len(r.BadShards) != 1 || r.BadShards[0].Shard != -1 || r.BadShards[0].Segment != seg {
		t.Fatalf("verify %+v %v", r, err)
	}
}
