package blockstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/faulty"
)

func dirTargets(t *testing.T, n int) []blockstore.Target {
	root := t.TempDir()
	ts := make([]blockstore.Target, n)
	for i := range ts {
		d, err := blockstore.NewDirTarget(filepath.Join(root, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		ts[i] = d
	}
	return ts
}

// TestLeaseNeedsMajority: with 4 of 6 targets failing, no lease is taken;
// with 2 failing (a majority answers) it is, and renewal works too.
func TestLeaseNeedsMajority(t *testing.T) {
	ctx := context.Background()
	ts := dirTargets(t, 6)
	fs := make([]*faulty.Target, len(ts))
	for i := range ts {
		fs[i] = faulty.Wrap(ts[i])
		ts[i] = fs[i]
	}
	me := blockstore.Lease{Host: "aaaa", Hostname: "a", ValidMS: 1000}
	for _, f := range fs[:4] {
		f.FailPutsAfter(0)
	}
	if _, err := blockstore.AcquireLease(ctx, ts, me, time.Now(), blockstore.LeaseResume); err == nil {
		t.Fatal("lease taken with only 2 of 6 targets writable")
	}
	for _, f := range fs[2:4] {
		f.Heal()
	}
	o, err := blockstore.AcquireLease(ctx, ts, me, time.Now(), blockstore.LeaseResume)
	if err != nil {
		t.Fatalf("lease with 4 of 6 targets: %v", err)
	}
	if err := o.Renew(ctx, time.Now()); err != nil {
		t.Fatalf("renewal with 4 of 6 targets: %v", err)
	}
}

// BenchmarkLeaseCheck times the fence check a seal runs (the lease read on
// six directory targets), to compare with a segment's write time.
func BenchmarkLeaseCheck(b *testing.B) {
	ctx := context.Background()
	root := b.TempDir()
	ts := make([]blockstore.Target, 6)
	for i := range ts {
		ts[i], _ = blockstore.NewDirTarget(filepath.Join(root, fmt.Sprint(i)))
	}
	o, err := blockstore.AcquireLease(ctx, ts, blockstore.Lease{Host: "aaaa", ValidMS: 1000}, time.Now(), blockstore.LeaseResume)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := o.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLeaseRaceLoser: two hosts attach at once and both read "no lease";
// host w's conditional puts win on 4 targets, host l's on 2 (its attach
// fails: no majority). l's leftover copies at the same epoch must neither
// fence w nor be named as the owner; w's renewal replaces them.
func TestLeaseRaceLoser(t *testing.T) {
	ctx := context.Background()
	ts := dirTargets(t, 6)
	fs := make([]*faulty.Target, len(ts))
	for i := range ts {
		fs[i] = faulty.Wrap(ts[i])
		ts[i] = fs[i]
	}
	w := blockstore.Lease{Host: "wwww", Hostname: "w", ValidMS: 60000}
	l := blockstore.Lease{Host: "llll", Hostname: "l", ValidMS: 60000}
	for _, f := range fs[:2] {
		f.FailPutsAfter(0)
	}
	ow, err := blockstore.AcquireLease(ctx, ts, w, time.Now(), blockstore.LeaseAttach)
	if err != nil {
		t.Fatalf("w on 4 of 6: %v", err)
	}
	heal(fs)
	for _, f := range fs[2:] { // l read before w's puts landed there, and lost those puts
		f.FailReadsAfter(0)
	}
	if _, err := blockstore.AcquireLease(ctx, ts, l, time.Now(), blockstore.LeaseAttach); err == nil {
		t.Fatal("l took the lease with 2 of 6 targets")
	}
	heal(fs)
	if err := ow.Check(ctx); err != nil {
		t.Fatalf("w fenced by the loser's leftovers: %v", err)
	}
	if cur := blockstore.CurrentLease(ctx, ts); cur == nil || cur.Host != w.Host {
		t.Fatalf("current lease %+v, want host %s", cur, w.Host)
	}
	if err := ow.Renew(ctx, time.Now()); err != nil {
		t.Fatalf("w's renewal: %v", err)
	}
	_, err = blockstore.AcquireLease(ctx, ts, l, time.Now(), blockstore.LeaseAttach)
	var held *blockstore.HeldError
	if !errors.As(err, &held) || held.Holder.Host != w.Host {
		t.Fatalf("l's second attach: %v, want refused naming %s", err, w.Host)
	}
}

func heal(fs []*faulty.Target) {
	for _, f := range fs {
		f.Heal()
	}
}
