package vault

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// A vault on absolute shard directories is rebuilt on a new host from its
// targets alone: catalog from the newest checkpoint, chunks through the
// rebuilt index.
func TestAttachFromCheckpoint(t *testing.T) {
	ctx := context.Background()
	shards := t.TempDir()
	specs := make([]string, 3)
	for i := range specs {
		specs[i] = filepath.Join(shards, fmt.Sprint(i))
	}
	clock := newClock("2026-01-01T00:00:00Z")
	h := testHost(t, t.TempDir(), clock)
	v, err := h.Create(ctx, "prod-1", testPass, CreateOptions{Layout: StorageLayout{DataShards: 2, ParityShards: 1, Targets: specs}})
	must(t, err)
	mustItem(t, v, "vm1", "")
	w := v.Store().NewWriter()
	data := bytes.Repeat([]byte("rewind attach "), 1<<16)
	res, err := w.Put(ctx, data)
	must(t, err)
	must(t, w.Flush(ctx))
	p, err := v.AddPoint(ctx, Point{Item: "vm1", Time: clock.Now(), Kind: Full, Consistency: ConsistencyCrash, Root: res.ID, SourceBytes: int64(len(data))})
	must(t, err)
	must(t, w.Close())
	must(t, v.Checkpoint(ctx))
	mustItem(t, v, "vm2", "")
	must(t, v.Checkpoint(ctx)) // the newest checkpoint wins
	must(t, h.Close())

	h2 := testHost(t, t.TempDir(), clock)
	if _, err := h2.Attach(ctx, "prod-1", specs, []byte("wrong passphrase")); err == nil {
		t.Fatal("attach with a wrong passphrase must fail")
	}
	if _, err := h2.Attach(ctx, "prod-1", specs[:2], testPass); err == nil {
		t.Fatal("attach with too few targets must fail")
	}
	v2, err := h2.Attach(ctx, "prod-1", specs, testPass)
	must(t, err)
	items, err := v2.Items(ctx)
	must(t, err)
	if len(items) != 2 {
		t.Fatalf("items after attach: %v", items)
	}
	got, err := v2.Point(ctx, "vm1", p.ID)
	must(t, err)
	chunk, err := v2.Store().Get(ctx, got.Root)
	if err != nil || !bytes.Equal(chunk, data) {
		t.Fatalf("chunk after attach: %v", err)
	}
	// The attached vault reopens like any other.
	must(t, h2.Close())
	h3 := testHost(t, filepath.Dir(filepath.Dir(v2.dir)), clock)
	v3, err := h3.Vault("prod-1")
	must(t, err)
	must(t, v3.Unlock(testPass))
}

// A damaged newest checkpoint is skipped for the one before it.
func TestAttachSkipsDamagedCheckpoint(t *testing.T) {
	ctx := context.Background()
	shards := t.TempDir()
	specs := []string{filepath.Join(shards, "0"), filepath.Join(shards, "1"), filepath.Join(shards, "2")}
	clock := newClock("2026-01-01T00:00:00Z")
	h := testHost(t, t.TempDir(), clock)
	v, err := h.Create(ctx, "prod-1", testPass, CreateOptions{Layout: StorageLayout{DataShards: 2, ParityShards: 1, Targets: specs}})
	must(t, err)
	mustItem(t, v, "vm1", "")
	must(t, v.Checkpoint(ctx))
	mustItem(t, v, "vm2", "")
	must(t, v.Checkpoint(ctx))
	must(t, h.Close())
	for _, s := range specs {
		os.WriteFile(filepath.Join(s, checkpointName(2)), []byte("garbage"), 0o600)
	}
	h2 := testHost(t, t.TempDir(), clock)
	v2, err := h2.Attach(ctx, "prod-1", specs, testPass)
	must(t, err)
	items, _ := v2.Items(ctx)
	if len(items) != 1 {
		t.Fatalf("the older checkpoint has one item, got %v", items)
	}
}

func TestParseCatalogRefusesGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("RWCAT1\n\x05ab"), []byte("RWCAT1\n\x03x/y\x00"), []byte("nope")} {
		if _, err := parseCatalog(b); err == nil {
			t.Errorf("parseCatalog(%q) should fail", b)
		}
	}
}
