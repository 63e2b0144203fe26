package s3_test

import (
	"context"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
	"github.com/rewind-backup/rewind/blockstore/targettest"
)

// TestObjectLock: a bucket made with object lock says so; PutWithRetention
// and lock= in the spec lock objects in the configured mode; retention can be
// extended but not shortened; a bucket without lock reports false and a
// locked put into it fails.
func TestObjectLock(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "locked", true)
	srv.MakeBucket(t, "plain", false)
	ctx := context.Background()

	lk := newTarget(t, srv, "locked")
	if on, err := lk.ObjectLock(ctx); err != nil || !on {
		t.Fatalf("locked bucket: ObjectLock = %v, %v", on, err)
	}
	until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	if err := lk.PutWithRetention(ctx, "seg/a", []byte("keep me"), until); err != nil {
		t.Fatal(err)
	}
	mode, got, err := lk.Retention(ctx, "seg/a")
	if err != nil || mode != "GOVERNANCE" || !got.Equal(until) {
		t.Fatalf("retention = %s %v %v, want GOVERNANCE %v", mode, got, err, until)
	}
	if err := lk.ExtendRetention(ctx, "seg/a", until.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := lk.ExtendRetention(ctx, "seg/a", until); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := lk.Retention(ctx, "seg/a"); !got.Equal(until.Add(24 * time.Hour)) {
		t.Errorf("retention after extend and no-op shorten: %v", got)
	}

	comp := newTarget(t, srv, "locked", "lock=compliance", "lock-days=1")
	if err := comp.Put(ctx, "seg/c", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if mode, got, err := comp.Retention(ctx, "seg/c"); err != nil || mode != "COMPLIANCE" || time.Until(got) < 23*time.Hour {
		t.Errorf("lock= spec put: %s %v %v", mode, got, err)
	}

	pl := newTarget(t, srv, "plain")
	if on, err := pl.ObjectLock(ctx); err != nil || on {
		t.Fatalf("plain bucket: ObjectLock = %v, %v", on, err)
	}
	if err := pl.PutWithRetention(ctx, "seg/a", []byte("x"), until); err == nil {
		t.Error("locked put into a bucket without object lock succeeded")
	}
	var _ s3.Locker = pl
}

// TestConformanceLocked: a bucket with object lock and lock= on every Put
// still behaves as a shard target (Delete leaves a delete marker, the locked
// version stays on the server).
func TestConformanceLocked(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "locked", true)
	targettest.Run(t, func(t *testing.T) blockstore.Target {
		return newTarget(t, srv, "locked", "lock=governance", "lock-days=1")
	})
}
