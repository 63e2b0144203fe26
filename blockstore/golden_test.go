package blockstore

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden-v1 (a store made by today's code)")

const goldenDir = "testdata/golden-v1"

var goldenPass = []byte("golden passphrase")

func copyTree(t *testing.T, src, dst string) {
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeGolden(t *testing.T) {
	os.RemoveAll(goldenDir)
	ts := newTargets(t, filepath.Join(goldenDir, "targets"), 6)
	s, err := Create(context.Background(), filepath.Join(goldenDir, "store"), goldenPass, ts, Options{SegmentSize: 20 << 10})
	if err != nil {
		t.Fatal(err)
	}
	chunks := mixedChunks(42, 6, 10<<10)
	ids := putAllFlush(t, s, chunks)
	var lines strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&lines, "%s %x\n", id, sha256.Sum256(chunks[i]))
	}
	s.Close()
	os.Remove(filepath.Join(goldenDir, "store", "index", "LOCK"))
	if err := os.WriteFile(filepath.Join(goldenDir, "chunks.txt"), []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenV1 reads a store made by the first version of this code.
func TestGoldenV1(t *testing.T) {
	if *update {
		writeGolden(t)
	}
	root := t.TempDir()
	copyTree(t, goldenDir, root)
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(root, "store"), newTargets(t, filepath.Join(root, "targets"), 6))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Unlock(goldenPass); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(goldenDir, "chunks.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		idHex, sum, _ := strings.Cut(sc.Text(), " ")
		id, err := ParseID(idHex)
		if err != nil {
			t.Fatal(err)
		}
		data, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
			t.Fatalf("chunk %s: content differs", id)
		}
		n++
	}
	if r, err := s.Verify(ctx, true); err != nil || !r.Clean() || r.Chunks != n || n == 0 {
		t.Fatalf("verify %+v %v (%d chunks listed)", r, err, n)
	}
	goldenWithEpoch(t, s, n)
}

// goldenWithEpoch: the fixture's segments (written before owner epochs) are
// epoch 0; a store that takes epoch 2 writes segments named with it, and
// reads, verifies and rebuilds old and new alike.
func goldenWithEpoch(t *testing.T, s *Store, n int) {
	ctx := context.Background()
	before := segmentIDs(t, s)
	for _, seg := range before {
		if EpochOf(seg) != 0 {
			t.Fatalf("fixture segment %016x reads as epoch %d, want 0", seg, EpochOf(seg))
		}
	}
	if err := s.SetOwner(2, time.Now(), time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	chunks := mixedChunks(31, 4, 20<<10)
	ids := putAllFlush(t, s, chunks)
	after := segmentIDs(t, s)
	if len(after) <= len(before) || EpochOf(after[len(after)-1]) != 2 {
		t.Fatalf("segments after a put at epoch 2: %x", after)
	}
	checkAll(t, s, ids, chunks)
	if r, err := s.Verify(ctx, true); err != nil || !r.Clean() || r.Chunks != n+len(ids) {
		t.Fatalf("verify with epoch 0 and 2 segments: %+v %v", r, err)
	}
}
