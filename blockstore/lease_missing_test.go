package blockstore

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLeaseMissingOrStale: the lease object was deleted (or an old copy put
// back) on every target while segments of epoch 3 exist. A new host's plain
// attach is refused (a missing lease is a question, not a free vault);
// --takeover, and the old owner resuming, take an epoch above every epoch
// in the targets' names, so no writer ever goes back to an older epoch;
// a resume by a host that did not claim the newest epoch is refused.
func TestLeaseMissingOrStale(t *testing.T) {
	ctx := context.Background()
	s, _, ts := newTestStore(t, 200<<10)
	now := time.Now()
	a := Lease{Host: "aaaa", Hostname: "host-a", ValidMS: 180000}
	if err := s.SetOwner(3, now, time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	putAllFlush(t, s, mixedChunks(41, 3, 30<<10))
	b := Lease{Host: "bbbb", Hostname: "host-b", ValidMS: 180000}
	if _, err := AcquireLease(ctx, ts, b, now, LeaseAttach); !errors.Is(err, ErrLeaseMissing) {
		t.Fatalf("attach with no lease but epoch-3 segments: %v, want ErrLeaseMissing", err)
	}
	ob, err := AcquireLease(ctx, ts, b, now, LeaseTakeover)
	if err != nil || ob.Lease().Epoch != 4 {
		t.Fatalf("takeover with no lease: %v %+v, want epoch 4", err, ob)
	}
	for _, tg := range ts {
		if err := tg.Delete(ctx, LeaseObject); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := AcquireLease(ctx, ts, a, now, LeaseResume); !errors.Is(err, ErrLeaseMissing) {
		t.Fatalf("old owner resuming with no lease after b claimed epoch 4: %v, want ErrLeaseMissing", err)
	}
	ob, err = AcquireLease(ctx, ts, b, now, LeaseResume)
	if err != nil || ob.Lease().Epoch != 5 {
		t.Fatalf("b resuming with no lease: %v %+v, want epoch 5 (above the epoch-3 names and the claim of 4)", err, ob)
	}
}

// TestLeaseCorruptEpochClaimed: host a took epoch 1 and wrote nothing yet;
// then every lease copy was overwritten with garbage. A takeover by b must
// not take epoch 1 again (both would name their first segment alike): each
// new epoch is claimed with an exclusive marker that outlives the lease.
func TestLeaseCorruptEpochClaimed(t *testing.T) {
	ctx := context.Background()
	_, _, ts := newTestStore(t, 200<<10)
	now := time.Now()
	a := Lease{Host: "aaaa", Hostname: "host-a", ValidMS: 180000}
	oa, err := AcquireLease(ctx, ts, a, now, LeaseResume)
	if err != nil || oa.Lease().Epoch != 1 {
		t.Fatalf("first lease: %v", err)
	}
	for _, tg := range ts {
		if err := tg.Put(ctx, LeaseObject, []byte("not a lease")); err != nil {
			t.Fatal(err)
		}
	}
	b := Lease{Host: "bbbb", Hostname: "host-b", ValidMS: 180000}
	ob, err := AcquireLease(ctx, ts, b, now, LeaseTakeover)
	if err != nil || ob.Lease().Epoch != 2 {
		t.Fatalf("takeover over garbage lease copies: %v %+v, want epoch 2", err, ob)
	}
	if err := oa.Check(ctx); !errors.Is(err, ErrFenced) {
		t.Fatalf("old owner after the takeover: %v, want fenced", err)
	}
}

// TestLeaseMissingStaleResume: host a was fenced by b's takeover; then the
// lease copies were deleted. a restarting (resume) must not take the vault
// back (its catalog is stale and its GC would remove b's segments): the
// newest epoch was claimed by b. b itself resumes.
func TestLeaseMissingStaleResume(t *testing.T) {
	ctx := context.Background()
	_, _, ts := newTestStore(t, 200<<10)
	now := time.Now()
	a := Lease{Host: "aaaa", Hostname: "host-a", ValidMS: 180000}
	b := Lease{Host: "bbbb", Hostname: "host-b", ValidMS: 180000}
	if _, err := AcquireLease(ctx, ts, a, now, LeaseResume); err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLease(ctx, ts, b, now, LeaseTakeover); err != nil {
		t.Fatal(err)
	}
	for _, tg := range ts {
		if err := tg.Delete(ctx, LeaseObject); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := AcquireLease(ctx, ts, a, now, LeaseResume); !errors.Is(err, ErrLeaseMissing) {
		t.Fatalf("fenced host resuming with the lease deleted: %v, want ErrLeaseMissing", err)
	}
	if ob, err := AcquireLease(ctx, ts, b, now, LeaseResume); err != nil || ob.Lease().Epoch != 3 {
		t.Fatalf("the owner resuming with its lease deleted: %v %+v", err, ob)
	}
}
