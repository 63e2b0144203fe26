package blockstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

var testPass = []byte("correct horse battery staple")

func newTargets(t testing.TB, root string, n int) []Target {
	t.Helper()
	ts := make([]Target, n)
	for i := range ts {
		d, err := NewDirTarget(filepath.Join(root, fmt.Sprintf("shard%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ts[i] = d
	}
	return ts
}

// newTestStore creates a 4+2 store with small segments under a temp dir.
func newTestStore(t testing.TB, segSize int) (*Store, string, []Target) {
	t.Helper()
	root := t.TempDir()
	ts := newTargets(t, root, 6)
	dir := filepath.Join(root, "store")
	s, err := Create(context.Background(), dir, testPass, ts,
		Options{Layout: Layout{DataShards: 4, ParityShards: 2}, SegmentSize: segSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir, ts
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

var words = []string{"backup ", "restore ", "vault ", "segment ", "shard ", "parity ", "chunk ", "\n", "the ", "of "}

func textBytes(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

// mixedChunks returns n chunks cycling zero, text-like and random content.
func mixedChunks(seed uint64, n, size int) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][]byte, n)
	for i := range out {
		switch i % 3 {
		case 0:
			out[i] = make([]byte, size)
			out[i][r.IntN(size)] = byte(1 + i) // distinct, still mostly zero
		case 1:
			out[i] = textBytes(r, size)
		default:
			out[i] = randomBytes(r, size)
		}
	}
	return out
}

func putAllFlush(t testing.TB, s *Store, chunks [][]byte) []ID {
	t.Helper()
	ctx := context.Background()
	w := s.NewWriter()
	defer w.Close()
	ids := make([]ID, len(chunks))
	for i, c := range chunks {
		r, err := w.Put(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

func checkAll(t testing.TB, s *Store, ids []ID, chunks [][]byte) {
	t.Helper()
	for i, id := range ids {
		got, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if !bytes.Equal(got, chunks[i]) {
			t.Fatalf("chunk %d: content differs", i)
		}
	}
}
