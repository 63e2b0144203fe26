package blockstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func liveSet(ids ...[]ID) Enumerator {
	return func(ctx context.Context, yield func(ID) error) error {
		for _, set := range ids {
			for _, id := range set {
				if err := yield(id); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

func countObjects(t *testing.T, ts []Target) int {
	n := 0
	for _, tg := range ts {
		tg.List(context.Background(), "seg/", func(string, int64) error { n++; return nil })
	}
	return n
}

func TestGCDeletesAndRewrites(t *testing.T) {
	s, _, ts := newTestStore(t, 200<<10)
	ctx := context.Background()
	keepA := mixedChunks(10, 9, 40<<10)
	dropB := mixedChunks(11, 9, 40<<10)
	idsA := putAllFlush(t, s, keepA)
	idsB := putAllFlush(t, s, dropB)
	// a segment holding one live chunk among many dead ones
	mixed := append(mixedChunks(12, 8, 20<<10), []byte("one live chunk"))
	idsM := putAllFlush(t, s, mixed)
	before := countObjects(t, ts)
	st, err := s.GC(ctx, liveSet(idsA, idsM[len(idsM)-1:]))
	if err != nil {
		t.Fatal(err)
	}
	if st.SegmentsDeleted == 0 || st.SegmentsRewritten == 0 || st.BytesReclaimed <= 0 ||
		st.DeadChunks != len(idsB)+len(idsM)-1 {
		t.Fatalf("stats %+v", st)
	}
	if after := countObjects(t, ts); after >= before {
		t.Fatalf("objects %d -> %d", before, after)
	}
	checkAll(t, s, idsA, keepA)
	checkAll(t, s, idsM[len(idsM)-1:], mixed[len(mixed)-1:])
	for _, id := range idsB {
		if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("dead chunk still readable: %v", err)
		}
	}
	if r, err := s.Verify(ctx, true); err != nil || !r.Clean() {
		t.Fatalf("verify %+v %v", r, err)
	}
}

func TestGCOpenWriterAndOrphans(t *testing.T) {
	s, _, ts := newTestStore(t, 200<<10)
	ctx := context.Background()
	chunks := mixedChunks(13, 6, 30<<10)
	ids := putAllFlush(t, s, chunks)
	w := s.NewWriter()
	if _, err := w.Put(ctx, chunks[0]); err != nil { // dedupes against a committed chunk
		t.Fatal(err)
	}
	stale := filepath.Join(strings.TrimPrefix(ts[2].Name(), "dir:"), "seg", tempPrefix+"0123456789abcdef")
	os.WriteFile(stale, []byte("half a shard"), 0o600)
	os.Chtimes(stale, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
	fresh := filepath.Join(filepath.Dir(stale), tempPrefix+"fedcba9876543210")
	os.WriteFile(fresh, []byte("a put in progress"), 0o600)
	orphan, _ := s.segs.take()
	if _, err := s.writeSegment(ctx, orphan, []byte("crash leftover, never committed")); err != nil {
		t.Fatal(err)
	}
	st, err := s.GC(ctx, liveSet())
	if err != nil {
		t.Fatal(err)
	}
	if st.OrphanObjectsDeleted != 7 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("stale temp file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("fresh temp file removed")
	}
	checkAll(t, s, ids[:1], chunks[:1])
	w.Close()
	if _, err := s.GC(ctx, liveSet()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(ctx, ids[0]); ok || countObjects(t, ts) != 0 {
		t.Fatal("GC left data behind after the writer closed")
	}
}

// TestGCRacesWriter runs GC over and over while backups dedupe against old
// chunks and publish their points only after Flush and Close.
func TestGCRacesWriter(t *testing.T) {
	s, _, _ := newTestStore(t, 100<<10)
	ctx := context.Background()
	old := mixedChunks(14, 18, 20<<10)
	putAllFlush(t, s, old)
	var mu sync.Mutex
	var points [][]ID
	enum := func(ctx context.Context, yield func(ID) error) error {
		mu.Lock()
		ps := append([][]ID(nil), points...)
		mu.Unlock()
		return liveSet(ps...)(ctx, yield)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := s.GC(ctx, enum); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for round := 0; round < 12; round++ {
		fresh := mixedChunks(uint64(100+round), 3, 20<<10)
		set := append(append([][]byte{}, old[round%6*3:round%6*3+3]...), fresh...)
		w := s.NewWriter()
		ids := make([]ID, len(set))
		for i, c := range set {
			r, err := w.Put(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = r.ID
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		checkAll(t, s, ids, set)
		mu.Lock()
		points = append(points, ids) // the catalog records the point, then closes the writer
		mu.Unlock()
		w.Close()
	}
	close(done)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, p := range points {
		for _, id := range p {
			if _, err := s.Get(ctx, id); err != nil {
				t.Fatalf("referenced chunk lost: %v", err)
			}
		}
	}
}

func TestRebuildIndex(t *testing.T) {
	s, dir, ts := newTestStore(t, 150<<10)
	ctx := context.Background()
	chunks := mixedChunks(15, 15, 30<<10)
	ids := putAllFlush(t, s, chunks)
	nonceBefore := s.nonces.peek()
	if err := s.ChangePassphrase(ctx, testPass, []byte("rotated")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	dir2 := dir + "-attached"
	s2, err := Attach(ctx, dir2, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Unlock(testPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase after rotation: %v", err)
	}
	if err := s2.Unlock([]byte("rotated")); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.NewWriter().Put(ctx, []byte("x")); !errors.Is(err, errNeedsRebuild) {
		t.Fatalf("put before rebuild: %v", err)
	}
	if err := s2.RebuildIndex(ctx); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s2, ids, chunks)
	if s2.nonces.peek() < nonceBefore {
		t.Fatal("nonce counter not raised above used nonces")
	}
	more := mixedChunks(16, 3, 30<<10)
	checkAll(t, s2, putAllFlush(t, s2, more), more)
	if r, err := s2.Verify(ctx, true); err != nil || !r.Clean() || r.Chunks != len(chunks)+len(more) {
		t.Fatalf("verify %+v %v", r, err)
	}
}

// TestReadersRaceRewrite reads live chunks while GC rewrites every segment
// they live in and deletes the old shards: no read may fail.
func TestReadersRaceRewrite(t *testing.T) {
	s, _, _ := newTestStore(t, 100<<10)
	ctx := context.Background()
	var live []ID
	var liveData [][]byte
	for i := 0; i < 6; i++ {
		chunks := mixedChunks(uint64(200+i), 7, 15<<10)
		chunks[0] = []byte(fmt.Sprintf("live chunk %d", i))
		ids := putAllFlush(t, s, chunks)
		live, liveData = append(live, ids[0]), append(liveData, chunks[0])
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i, id := range live {
					got, err := s.Get(ctx, id)
					if err != nil || !bytes.Equal(got, liveData[i]) {
						t.Errorf("read during rewrite: %v", err)
						return
					}
				}
			}
		}()
	}
	st, err := s.GC(ctx, liveSet(live))
	close(stop)
	wg.Wait()
	if err != nil || st.SegmentsRewritten == 0 {
		t.Fatalf("gc %+v %v", st, err)
	}
	checkAll(t, s, live, liveData)
}
