package blockstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/faulty"
)

func faultyStore(t *testing.T) (*blockstore.Store, []*faulty.Target) {
	root := t.TempDir()
	var fs []*faulty.Target
	var ts []blockstore.Target
	for i := 0; i < 6; i++ {
		d, err := blockstore.NewDirTarget(filepath.Join(root, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		f := faulty.Wrap(d)
		fs, ts = append(fs, f), append(ts, f)
	}
	s, err := blockstore.Create(context.Background(), filepath.Join(root, "store"), []byte("pw"), ts,
		blockstore.Options{SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, fs
}

func segObjects(t *testing.T, fs []*faulty.Target) int {
	n := 0
	for _, f := range fs {
		f.List(context.Background(), "seg/", func(string, int64) error { n++; return nil })
	}
	return n
}

// Two failed targets of 4+2 leave no redundancy: the placement rule fails
// the seal (one failed target commits the segment degraded, see below).
func TestFailedPutIsNotVisible(t *testing.T) {
	s, fs := faultyStore(t)
	ctx := context.Background()
	fs[3].FailPutsAfter(0)
	fs[4].FailPutsAfter(0)
	w := s.NewWriter()
	defer w.Close()
	r, err := w.Put(ctx, []byte("never committed"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("flush: %v", err)
	}
	if ok, _ := s.Has(ctx, r.ID); ok {
		t.Fatal("chunk of a failed seal is visible")
	}
	if n := segObjects(t, fs); n != 0 {
		t.Fatalf("failed seal left %d shard objects", n)
	}
	fs[3].Heal()
	fs[4].Heal()
	if err := w.Flush(ctx); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("second flush after a lost seal: %v", err)
	}
	w2 := s.NewWriter()
	defer w2.Close()
	if r2, err := w2.Put(ctx, []byte("never committed")); err != nil || !r2.New {
		t.Fatalf("retry put: %+v %v", r2, err)
	}
	if err := w2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, r.ID); err != nil || string(got) != "never committed" {
		t.Fatal(got, err)
	}
}

func TestReadFaultsReconstructed(t *testing.T) {
	s, fs := faultyStore(t)
	ctx := context.Background()
	w := s.NewWriter()
	defer w.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	data[777] = 'x'
	r, err := w.Put(ctx, data)
	if err != nil || w.Flush(ctx) != nil {
		t.Fatal(err)
	}
	fs[0].FailReadsAfter(0)
	fs[1].Corrupt("seg/0000000000000001.1", 64+4+100)
	fs[5].Drop("seg/0000000000000001.5")
	_, err = s.Get(ctx, r.ID)
	if err == nil {
		t.Fatal("3 faulty shards of 6 should not be readable")
	}
	var ce *blockstore.CorruptionError
	if !errors.As(err, &ce) || ce.Chunk != r.ID {
		t.Fatalf("want CorruptionError naming the chunk, got %v", err)
	}
	fs[5].Heal()
	if got, err := s.Get(ctx, r.ID); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("2 faulty shards: %v", err)
	}
}

// One failed target of 4+2: the segment is committed with its other five
// shards, readable, and marked degraded until a repair rewrites the shard.
func TestOneFailedTargetCommitsDegraded(t *testing.T) {
	s, fs := faultyStore(t)
	ctx := context.Background()
	fs[2].FailPutsAfter(0)
	w := s.NewWriter()
	defer w.Close()
	r, err := w.Put(ctx, []byte("written with a target down"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("flush with one target down: %v", err)
	}
	if got, err := s.Get(ctx, r.ID); err != nil || string(got) != "written with a target down" {
		t.Fatal(got, err)
	}
	if n, err := s.DegradedSegments(ctx); err != nil || n != 1 {
		t.Fatalf("DegradedSegments = %d, %v; want 1", n, err)
	}
	fs[2].Heal()
	if rep, err := s.Verify(ctx, false); err != nil || len(rep.BadShards) != 1 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if n, _ := s.DegradedSegments(ctx); n != 1 {
		t.Fatalf("verify cleared the mark of a segment still missing a shard (%d)", n)
	}
	if _, err := s.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DegradedSegments(ctx); err != nil || n != 0 {
		t.Fatalf("DegradedSegments after repair = %d, %v; want 0", n, err)
	}
}
