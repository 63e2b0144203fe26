package vmdisk

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// testStore is a real block store: 4 data + 2 parity dir targets and small
// segments, in a temp dir.
type testStore struct {
	*blockstore.Store
}

func newTestStore(t testing.TB) *testStore {
	t.Helper()
	dir := t.TempDir()
	var targets []blockstore.Target
	for i := range 6 {
		tg, err := blockstore.NewDirTarget(filepath.Join(dir, fmt.Sprintf("shard%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	st, err := blockstore.Create(context.Background(), filepath.Join(dir, "store"), []byte("test passphrase"), targets,
		blockstore.Options{Layout: blockstore.Layout{DataShards: 4, ParityShards: 2}, SegmentSize: 8 << 20})
	if err != nil {
		t.Fatalf("create block store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return &testStore{st}
}
