package fileshare

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// Compile-time checks: the real store satisfies the interfaces fileshare uses.
var (
	_ ChunkWriter = (*blockstore.Writer)(nil)
	_ ChunkReader = (*blockstore.Store)(nil)
	_ ChunkHasher = (*blockstore.Store)(nil)
)

// newStore creates a real 4+2 erasure-coded store on dir targets in a temp dir.
func newStore(t testing.TB) *blockstore.Store {
	t.Helper()
	return newStoreIn(t, t.TempDir())
}

func newStoreIn(t testing.TB, root string) *blockstore.Store {
	t.Helper()
	ts := make([]blockstore.Target, 6)
	for i := range ts {
		d, err := blockstore.NewDirTarget(filepath.Join(root, fmt.Sprintf("shard%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ts[i] = d
	}
	s, err := blockstore.Create(context.Background(), filepath.Join(root, "store"), []byte("test passphrase"), ts,
		blockstore.Options{Layout: blockstore.Layout{DataShards: 4, ParityShards: 2}, SegmentSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// backupTo runs Backup through a writer of s and flushes it.
func backupTo(t testing.TB, s *blockstore.Store, src string, prev blockstore.ID, opts BackupOptions) *Result {
	t.Helper()
	ctx := context.Background()
	w := s.NewWriter()
	defer w.Close()
	res, err := Backup(ctx, w, s, src, prev, opts)
	if err != nil {
		t.Fatalf("backup %s: %v", src, err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	return res
}

// putRaw stores hand-made objects (hostile trees) and flushes them.
func putRaw(t testing.TB, s *blockstore.Store, objs ...[]byte) []blockstore.ID {
	t.Helper()
	ctx := context.Background()
	w := s.NewWriter()
	defer w.Close()
	var ids []blockstore.ID
	for _, o := range objs {
		r, err := w.Put(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

// recordingWriter passes Puts to a real writer and remembers every id.
type recordingWriter struct {
	w   *blockstore.Writer
	mu  sync.Mutex
	ids map[blockstore.ID]bool
}

func (r *recordingWriter) Put(ctx context.Context, data []byte) (blockstore.PutResult, error) {
	res, err := r.w.Put(ctx, data)
	r.mu.Lock()
	r.ids[res.ID] = true
	r.mu.Unlock()
	return res, err
}
