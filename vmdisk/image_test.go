package vmdisk

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// countingReader counts chunk fetches of the real store.
type countingReader struct {
	*testStore
	gets atomic.Int64
}

func (c *countingReader) Get(ctx context.Context, id blockstore.ID) ([]byte, error) {
	c.gets.Add(1)
	return c.testStore.Get(ctx, id)
}

func TestImageReadAt(t *testing.T) {
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, disk, 40<<20+777)
	writeAt(t, disk, 0, randBytes(20<<20))
	writeAt(t, disk, 40<<20, randBytes(777))
	r := backupT(t, ts, disk, nil, BackupOptions{})
	want, _ := os.ReadFile(disk)

	cr := &countingReader{testStore: ts}
	img, err := OpenImage(context.Background(), cr, r.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Size() != int64(len(want)) {
		t.Fatalf("size %d", img.Size())
	}
	// sequential 128 KiB reads fetch each data block once
	got := make([]byte, len(want))
	for off := 0; off < len(got); off += 128 << 10 {
		n, err := img.ReadAt(got[off:min(off+128<<10, len(got))], int64(off))
		if err != nil && err != io.EOF || n == 0 {
			t.Fatalf("ReadAt %d: %d %v", off, n, err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("sequential read differs")
	}
	if g := cr.gets.Load(); g > 1+1+6 { // root, one page, 6 data blocks
		t.Errorf("%d chunk fetches for a sequential read of 6 data blocks", g)
	}
	// concurrent random reads, across block edges and past the end
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			buf := make([]byte, 300<<10)
			for range 50 {
				off := rand.Int64N(int64(len(want)) + 1000)
				n, err := img.ReadAt(buf, off)
				end := min(off+int64(len(buf)), int64(len(want)))
				if off >= int64(len(want)) {
					if n != 0 || err != io.EOF {
						t.Errorf("read past end at %d: %d %v", off, n, err)
					}
					continue
				}
				if int64(n) != end-off || (n < len(buf)) != (err == io.EOF) || !bytes.Equal(buf[:n], want[off:end]) {
					t.Errorf("ReadAt %d: n=%d err=%v mismatch", off, n, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestRefs(t *testing.T) {
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, disk, 30<<20)
	block := randBytes(BlockSize)
	writeAt(t, disk, 0, block)
	writeAt(t, disk, 8<<20, block) // duplicate block dedupes
	writeAt(t, disk, 16<<20, randBytes(100))
	r := backupT(t, ts, disk, nil, BackupOptions{})
	ctx := context.Background()
	seen := map[blockstore.ID]bool{}
	err := Refs(ctx, ts, r.Root, func(id blockstore.ID) error {
		if ok, err := ts.Has(ctx, id); !ok || err != nil {
			t.Errorf("referenced chunk %s not in the store: %v", id, err)
		}
		seen[id] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || !seen[r.Root] || !seen[ts.ChunkID(block)] { // root, page, 2 distinct blocks
		t.Fatalf("refs: %d distinct ids", len(seen))
	}
}
