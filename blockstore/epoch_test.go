package blockstore

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGCEpochRule: unreferenced segments of the current epoch go at once,
// older epochs' only after the grace since the epoch began, a newer
// epoch's never (dead records and orphan shard objects alike).
func TestGCEpochRule(t *testing.T) {
	s, _, _ := newTestStore(t, 200<<10)
	ctx := context.Background()
	old := putAllFlush(t, s, mixedChunks(21, 6, 30<<10)) // epoch 0: written before epochs
	oldOrphan, _ := s.segs.take()
	if _, err := s.writeSegment(ctx, oldOrphan, []byte("epoch 0 crash leftover")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOwner(2, time.Now(), time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	cur := putAllFlush(t, s, mixedChunks(22, 6, 30<<10))
	for _, seg := range segmentIDs(t, s) {
		if e := EpochOf(seg); e != 0 && e != 2 {
			t.Fatalf("segment %016x has epoch %d", seg, e)
		}
	}
	newer := uint64(3)<<EpochShift | 5 // written by a later owner
	if _, err := s.writeSegment(ctx, newer, []byte("a newer owner's segment")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(ctx, liveSet()); err != nil {
		t.Fatal(err)
	}
	wantHas(t, s, cur, false)
	wantHas(t, s, old, true)
	wantShard(t, s, oldOrphan, true)
	wantShard(t, s, newer, true)

	if err := s.SetOwner(2, time.Now().Add(-2*time.Hour), time.Hour, nil); err != nil { // grace over
		t.Fatal(err)
	}
	if _, err := s.GC(ctx, liveSet()); err != nil {
		t.Fatal(err)
	}
	wantHas(t, s, old, false)
	wantShard(t, s, oldOrphan, false)
	wantShard(t, s, newer, true)
}

func wantHas(t *testing.T, s *Store, ids []ID, want bool) {
	t.Helper()
	for _, id := range ids {
		if ok, err := s.Has(context.Background(), id); err != nil || ok != want {
			t.Fatalf("chunk %s present %v (%v), want %v", id, ok, err, want)
		}
	}
}

func wantShard(t *testing.T, s *Store, seg uint64, want bool) {
	t.Helper()
	_, err := s.targets[0].Stat(context.Background(), shardName(seg, 0))
	if got := err == nil; got != want {
		t.Fatalf("segment %016x shard 0 present %v (%v), want %v", seg, got, err, want)
	}
}

// TestLeaseTakeoverFences: a live lease refuses a plain attach, naming the
// holder; takeover bumps the epoch; the old owner is fenced on its next
// check, renewal or resume, and its store refuses to seal a segment.
func TestLeaseTakeoverFences(t *testing.T) {
	ctx := context.Background()
	s, _, ts := newTestStore(t, 200<<10)
	now := time.Now()
	a := Lease{Host: "aaaa", Hostname: "host-a", ValidMS: 180000}
	b := Lease{Host: "bbbb", Hostname: "host-b", ValidMS: 180000}
	oa, err := AcquireLease(ctx, ts, a, now, LeaseResume)
	if err != nil || oa.Lease().Epoch != 1 {
		t.Fatalf("first lease: %v %+v", err, oa)
	}
	if err := s.SetOwner(1, now, time.Hour, oa.Check); err != nil {
		t.Fatal(err)
	}
	putAllFlush(t, s, mixedChunks(23, 3, 30<<10))
	var held *HeldError
	if _, err := AcquireLease(ctx, ts, b, now, LeaseAttach); !errors.As(err, &held) || held.Holder.Host != "aaaa" {
		t.Fatalf("attach while A's lease is live: %v", err)
	}
	ob, err := AcquireLease(ctx, ts, b, now, LeaseTakeover)
	if err != nil || ob.Lease().Epoch != 2 {
		t.Fatalf("takeover: %v", err)
	}
	var fenced *FencedError
	if err := oa.Renew(ctx, now); !errors.As(err, &fenced) || fenced.By.Host != "bbbb" || fenced.By.Epoch != 2 {
		t.Fatalf("renewal of the old owner: %v", err)
	}
	if _, err := AcquireLease(ctx, ts, a, now, LeaseResume); !errors.As(err, &fenced) {
		t.Fatalf("old owner resuming after a restart: %v", err)
	}
	w := s.NewWriter()
	defer w.Close()
	if _, err := w.Put(ctx, []byte("written after the takeover")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); !errors.Is(err, ErrFenced) {
		t.Fatalf("seal by the fenced owner: %v, want ErrFenced", err)
	}
	if _, err := s.GC(ctx, liveSet()); !errors.Is(err, ErrFenced) {
		t.Fatalf("GC by the fenced owner: %v, want ErrFenced", err)
	}
	if err := ob.Renew(ctx, now.Add(time.Minute)); err != nil {
		t.Fatalf("renewal of the new owner: %v", err)
	}
	c := Lease{Host: "cccc", Hostname: "host-c", ValidMS: 180000}
	if oc, err := AcquireLease(ctx, ts, c, now.Add(5*time.Minute), LeaseAttach); err != nil || oc.Lease().Epoch != 3 {
		t.Fatalf("attach after B's lease expired: %v", err)
	}
}
