package s3_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/faulty"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
)

// s3Store is a real 4+2 blockstore on six S3 targets: shards 0-3 on server
// a (shard 0 through a 503 proxy), shards 4-5 on server b.
type s3Store struct {
	st     *blockstore.Store
	ft     []*faulty.Target
	direct []blockstore.Target // the same prefixes, not through proxy or wrapper
	a, b   *miniotest.Server
	px     *miniotest.Proxy
}

func newS3Store(t *testing.T) *s3Store {
	x := &s3Store{a: miniotest.Start(t), b: miniotest.Start(t)}
	x.a.MakeBucket(t, "shards", false)
	x.b.MakeBucket(t, "shards", false)
	x.px = miniotest.NewProxy(t, x.a)
	var ts []blockstore.Target
	for i := 0; i < 6; i++ {
		srv, p := x.a, fmt.Sprintf("s%d", i)
		if i >= 4 {
			srv = x.b
		}
		spec := srv.Spec("shards", p)
		if i == 0 {
			spec = x.px.Spec("shards", p)
		}
		f := faulty.Wrap(openSpec(t, spec))
		x.ft, ts = append(x.ft, f), append(ts, f)
		x.direct = append(x.direct, openSpec(t, srv.Spec("shards", p)))
	}
	st, err := blockstore.Create(context.Background(), filepath.Join(t.TempDir(), "store"), []byte("pw"), ts,
		blockstore.Options{Layout: blockstore.Layout{DataShards: 4, ParityShards: 2}, SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	x.st = st
	return x
}

func randomChunks(seed uint64, n, size int) [][]byte {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, size)
		for j := range out[i] {
			out[i][j] = byte(r.Uint32())
		}
	}
	return out
}

// write puts chunks in one writer and flushes; it returns the ids and the
// flush error.
func (x *s3Store) write(t *testing.T, chunks [][]byte) ([]blockstore.ID, error) {
	ctx := context.Background()
	w := x.st.NewWriter()
	defer w.Close()
	var ids []blockstore.ID
	for _, c := range chunks {
		r, err := w.Put(ctx, c)
		if err != nil {
			return ids, err
		}
		ids = append(ids, r.ID)
	}
	return ids, w.Flush(ctx)
}

func (x *s3Store) mustRead(t *testing.T, ids []blockstore.ID, chunks [][]byte) {
	t.Helper()
	for i, id := range ids {
		got, err := x.st.Get(context.Background(), id)
		if err != nil || string(got) != string(chunks[i]) {
			t.Fatalf("get chunk %d: %v", i, err)
		}
	}
}

// segObjects counts shard objects on the six prefixes, read directly.
func (x *s3Store) segObjects(t *testing.T, skip ...int) int {
	n := 0
	for i, d := range x.direct {
		if len(skip) > 0 && i >= skip[0] {
			continue
		}
		if err := d.List(context.Background(), "seg/", func(string, int64) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// failedWrite proves a flush fails and leaves no chunk and no new shard object.
func (x *s3Store) failedWrite(t *testing.T, seed uint64, why string, skip ...int) {
	t.Helper()
	before := x.segObjects(t, skip...)
	chunks := randomChunks(seed, 6, 200<<10)
	ids, err := x.write(t, chunks)
	if err == nil {
		t.Fatalf("%s: flush succeeded", why)
	}
	for _, id := range ids {
		if ok, _ := x.st.Has(context.Background(), id); ok {
			t.Fatalf("%s: chunk of a failed flush is committed", why)
		}
	}
	if after := x.segObjects(t, skip...); after != before {
		t.Errorf("%s: %d shard objects before, %d after a failed flush", why, before, after)
	}
}

// degradedWrite proves a flush with one shard target failing still commits
// (k+1 of k+m shards written), reads back, and is counted degraded.
func (x *s3Store) degradedWrite(t *testing.T, seed uint64, why string) {
	t.Helper()
	chunks := randomChunks(seed, 6, 200<<10)
	ids, err := x.write(t, chunks)
	if err != nil {
		t.Fatalf("%s: a flush with one shard target failing must commit degraded: %v", why, err)
	}
	x.mustRead(t, ids, chunks)
	if n, err := x.st.DegradedSegments(context.Background()); err != nil || n == 0 {
		t.Fatalf("%s: %d degraded segments (%v), want at least one", why, n, err)
	}
}

func TestStoreFaults(t *testing.T) {
	x := newS3Store(t)
	chunks := randomChunks(1, 24, 200<<10)
	ids, err := x.write(t, chunks)
	if err != nil {
		t.Fatal(err)
	}
	x.mustRead(t, ids, chunks)

	t.Run("PutFailsMidway", func(t *testing.T) {
		x.ft[2].FailPutsAfter(0) // the other five shards are stored: degraded, not lost
		defer x.ft[2].Heal()
		x.degradedWrite(t, 2, "shard 2 put fails")
	})
	t.Run("Always503", func(t *testing.T) {
		x.px.Always503(true)
		defer x.px.Always503(false)
		x.mustRead(t, ids, chunks)
		x.degradedWrite(t, 3, "shard 0 answers 503")
	})
	t.Run("ServerKilled", func(t *testing.T) {
		x.b.Kill()
		defer x.b.Restart(t)
		start := time.Now()
		x.mustRead(t, ids, chunks)
		t.Logf("read %d chunks with shards 4-5 unreachable in %v", len(ids), time.Since(start))
		x.failedWrite(t, 4, "shards 4-5 unreachable", 4)
	})
	t.Run("RecoveredAndVerified", func(t *testing.T) {
		more := randomChunks(5, 8, 200<<10)
		ids2, err := x.write(t, more)
		if err != nil {
			t.Fatalf("write after recovery: %v", err)
		}
		x.mustRead(t, ids2, more)
		rep, err := x.st.Verify(context.Background(), true)
		if err != nil || len(rep.BadShards) != 2 || len(rep.Unrepairable) != 0 {
			t.Fatalf("verify: %+v %v, want the two shards the degraded writes left out", rep, err)
		}
		if _, err := x.st.Repair(context.Background()); err != nil {
			t.Fatalf("repair: %v", err)
		}
		rep, err = x.st.Verify(context.Background(), true)
		if err != nil || !rep.Clean() {
			t.Fatalf("verify after repair: %+v %v", rep, err)
		}
		if n, err := x.st.DegradedSegments(context.Background()); err != nil || n != 0 {
			t.Fatalf("%d degraded segments after repair (%v)", n, err)
		}
	})
}
