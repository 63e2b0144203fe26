package blockstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	s, _, _ := newTestStore(t, 256<<10)
	chunks := mixedChunks(1, 30, 100<<10)
	chunks = append(chunks, make([]byte, 4<<20), []byte{}, []byte("x"))
	ids := putAllFlush(t, s, chunks)
	checkAll(t, s, ids, chunks)
	if ids[len(ids)-3] != s.ChunkID(make([]byte, 4<<20)) {
		t.Fatal("ChunkID differs from Put's id")
	}
	if _, err := s.Get(context.Background(), ID{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing chunk: %v", err)
	}
}

func TestNotVisibleBeforeFlush(t *testing.T) {
	s, _, _ := newTestStore(t, 1<<20)
	ctx := context.Background()
	w := s.NewWriter()
	defer w.Close()
	r, err := w.Put(ctx, []byte("hello"))
	if err != nil || !r.New || r.Stored == 0 {
		t.Fatal(r, err)
	}
	if ok, _ := s.Has(ctx, r.ID); ok {
		t.Fatal("visible before Flush")
	}
	r2, _ := w.Put(ctx, []byte("hello"))
	if r2.New || r2.ID != r.ID {
		t.Fatal("no dedupe against in-flight chunk")
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, r.ID); !ok {
		t.Fatal("not visible after Flush")
	}
}

func TestDedupeAcrossWriters(t *testing.T) {
	s, _, _ := newTestStore(t, 128<<10)
	ctx := context.Background()
	chunks := mixedChunks(2, 24, 16<<10)
	var mu sync.Mutex
	newCount := map[ID]int{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := s.NewWriter()
			defer w.Close()
			for i := range chunks {
				c := chunks[(i+g*5)%len(chunks)]
				r, err := w.Put(ctx, c)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if r.New {
					newCount[r.ID]++
				}
				mu.Unlock()
			}
			if err := w.Flush(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for id, n := range newCount {
		if n != 1 {
			t.Errorf("chunk %s stored %d times", id, n)
		}
	}
	if len(newCount) != len(chunks) {
		t.Errorf("%d new chunks, want %d", len(newCount), len(chunks))
	}
	ids := putAllFlush(t, s, chunks)
	checkAll(t, s, ids, chunks)
}

func TestKeysGiveDifferentIDs(t *testing.T) {
	a, _, _ := newTestStore(t, 1<<20)
	b, _, _ := newTestStore(t, 1<<20)
	data := []byte("same plaintext")
	if a.ChunkID(data) == b.ChunkID(data) {
		t.Fatal("two vaults gave the same chunk id")
	}
}

func TestReopen(t *testing.T) {
	s, dir, ts := newTestStore(t, 200<<10)
	chunks := mixedChunks(3, 20, 50<<10)
	ids := putAllFlush(t, s, chunks)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(context.Background(), dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.Locked() {
		t.Fatal("opened unlocked")
	}
	if _, err := s2.Get(context.Background(), ids[0]); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked Get: %v", err)
	}
	if err := s2.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s2, ids, chunks)
	more := mixedChunks(4, 6, 50<<10)
	checkAll(t, s2, putAllFlush(t, s2, more), more)
}

func TestWrongPassphrase(t *testing.T) {
	s, dir, ts := newTestStore(t, 1<<20)
	s.Close()
	before := snapshotTree(t, filepath.Dir(dir))
	s2, err := Open(context.Background(), dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Unlock([]byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("got %v", err)
	}
	if err := s2.ChangePassphrase(context.Background(), []byte("wrong"), []byte("x")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("got %v", err)
	}
	s2.Close()
	after := snapshotTree(t, filepath.Dir(dir))
	for name, sum := range before {
		if filepath.Ext(name) == ".log" || filepath.Base(filepath.Dir(name)) == "index" {
			continue // Pebble's own files change on open/close
		}
		if after[name] != sum {
			t.Errorf("%s changed", name)
		}
	}
}

func snapshotTree(t *testing.T, root string) map[string]string {
	m := map[string]string{}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			m[p] = string(b)
		}
		return nil
	})
	return m
}

func TestChangePassphrase(t *testing.T) {
	s, dir, ts := newTestStore(t, 1<<20)
	ctx := context.Background()
	ids := putAllFlush(t, s, [][]byte{[]byte("abc")})
	if err := s.ChangePassphrase(ctx, testPass, []byte("new one")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Unlock(testPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase: %v", err)
	}
	if err := s2.Unlock([]byte("new one")); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s2, ids, [][]byte{[]byte("abc")})
}

func TestOpenUnknownFormat(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	ts := newTargets(t, root, 6)
	garbage := filepath.Join(root, "garbage")
	os.MkdirAll(garbage, 0o700)
	os.WriteFile(filepath.Join(garbage, "file"), []byte("not a store"), 0o600)
	for _, dir := range []string{filepath.Join(root, "absent"), garbage, t.TempDir()} {
		before := snapshotTree(t, dir)
		if _, err := Open(ctx, dir, ts); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: got %v", dir, err)
		}
		if after := snapshotTree(t, dir); len(after) != len(before) {
			t.Errorf("%s: Open touched it", dir)
		}
	}
	if _, err := Create(ctx, garbage, testPass, ts, Options{}); err == nil {
		t.Error("Create accepted a non-empty dir")
	}
}

func TestBlobAndExportKey(t *testing.T) {
	s, _, _ := newTestStore(t, 1<<20)
	c, err := s.SealBlob([]byte("catalog"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.OpenBlob(c, []byte("aad"))
	if err != nil || !bytes.Equal(p, []byte("catalog")) {
		t.Fatal(p, err)
	}
	if _, err := s.OpenBlob(c, []byte("other")); !errors.Is(err, ErrCorruption) {
		t.Fatal(err)
	}
	k, err := s.ExportKey()
	if err != nil || !bytes.Contains(k, []byte("argon2id")) {
		t.Fatal(string(k), err)
	}
}

func TestOpenNewerFormat(t *testing.T) {
	ctx := context.Background()
	s, dir, ts := newTestStore(t, 1<<20)
	if err := s.db.Set(keyFormat, append([]byte("RWBS"), 0, 0, 0, 2), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, dir, ts); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("newer index format: %v", err)
	}
	os.WriteFile(filepath.Join(dir, markerFile), []byte("rewind blockstore format 2\n"), 0o600)
	if _, err := Open(ctx, dir, ts); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("newer marker: %v", err)
	}
}
