package blockstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestFencedFlushSaysItOnce: a fenced writer whose chunks filled several
// segments fails its flush naming the takeover once, not once per segment
// (a job error repeated the same line twenty times).
func TestFencedFlushSaysItOnce(t *testing.T) {
	ctx := context.Background()
	s, _, ts := newTestStore(t, 40<<10)
	now := time.Now()
	oa, err := AcquireLease(ctx, ts, Lease{Host: "aaaa", Hostname: "host-a", ValidMS: 180000}, now, LeaseResume)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetOwner(oa.Lease().Epoch, now, time.Hour, oa.Check); err != nil {
		t.Fatal(err)
	}
	if _, err := AcquireLease(ctx, ts, Lease{Host: "bbbb", Hostname: "host-b", ValidMS: 180000}, now, LeaseTakeover); err != nil {
		t.Fatal(err)
	}
	w := s.NewWriter()
	defer w.Close()
	for _, c := range mixedChunks(51, 12, 30<<10) {
		if _, err := w.Put(ctx, c); err != nil && !errors.Is(err, ErrFenced) {
			t.Fatal(err)
		}
	}
	err = w.Flush(ctx)
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("flush of a fenced writer: %v", err)
	}
	if n := strings.Count(err.Error(), "taken over by"); n != 1 {
		t.Fatalf("the takeover is named %d times:\n%v", n, err)
	}
}
