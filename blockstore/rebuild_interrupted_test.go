package blockstore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
)

// TestRebuildIndexInterruptedSeal: the old owner died (or was fenced)
// while sealing its newest segment, leaving fewer than k shards of it. A
// rebuild on the new host indexes everything else, reports that segment as
// an interrupted seal and deletes nothing; the same loss in an older
// segment of the epoch is still an error naming it.
func TestRebuildIndexInterruptedSeal(t *testing.T) {
	s, dir, ts := newTestStore(t, 40<<10)
	ctx := context.Background()
	chunks := mixedChunks(31, 24, 30<<10)
	ids := putAllFlush(t, s, chunks)
	counts, err := s.listSegments(ctx)
	segs := slices.Sorted(maps.Keys(counts))
	if err != nil || len(segs) <= maxSealsInFlight+2 {
		t.Fatalf("segments %x %v: want more than %d", segs, err, maxSealsInFlight+2)
	}
	last := segs[len(segs)-1]
	s.Close()
	for i := range 3 { // 3 of 6 shards of the newest segment never landed
		if err := ts[i].Delete(ctx, shardName(last, i)); err != nil {
			t.Fatal(err)
		}
	}
	s2 := attachUnlocked(t, dir+"-a", ts)
	skipped, err := s2.RebuildIndexReport(ctx)
	if err != nil || !slices.Equal(skipped, []uint64{last}) {
		t.Fatalf("rebuild: skipped %x, err %v; want only %x skipped and no error", skipped, err, last)
	}
	for i := 3; i < 6; i++ {
		if _, err := ts[i].Stat(ctx, shardName(last, i)); err != nil {
			t.Fatalf("shard %d of the interrupted segment was removed: %v", i, err)
		}
	}
	var readable int
	for _, id := range ids {
		if _, err := s2.Get(ctx, id); err == nil {
			readable++
		}
	}
	if readable == 0 || readable == len(ids) {
		t.Fatalf("%d of %d chunks readable after skipping the newest segment", readable, len(ids))
	}
	s2.Close()

	first := segs[0]
	for i := range 3 {
		if err := ts[i].Delete(ctx, shardName(first, i)); err != nil {
			t.Fatal(err)
		}
	}
	s3 := attachUnlocked(t, dir+"-b", ts)
	var ce *CorruptionError
	if _, err := s3.RebuildIndexReport(ctx); !errors.As(err, &ce) || ce.Segment != first {
		t.Fatalf("rebuild with an older segment short of shards: %v, want a corruption error naming %x", err, first)
	}
}

func attachUnlocked(t *testing.T, dir string, ts []Target) *Store {
	t.Helper()
	s, err := Attach(context.Background(), dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	return s
}
