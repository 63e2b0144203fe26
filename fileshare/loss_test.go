package fileshare

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// segmentShards lists the shard files of segment seg (its lowest-numbered
// segment when seg is "") under the store root made by newStoreIn.
func segmentShards(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "shard*", "seg", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no segment files under %s: %v", root, err)
	}
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	first := strings.SplitN(filepath.Base(files[0]), ".", 2)[0]
	var out []string
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), first+".") {
			out = append(out, f)
		}
	}
	return out
}

// TestLostChunksFailTheRestore: a file whose data lives in a segment that
// lost 3 of its 6 shards fails the restore with an error naming the file,
// the segment and the chunk, and the file is not left behind (not as zeros,
// not in part).
func TestLostChunksFailTheRestore(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := newStoreIn(t, root)
	src := filepath.Join(t.TempDir(), "src")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(src, 0o755))
	data := make([]byte, 3<<20)
	rand.Read(data)
	must(os.WriteFile(filepath.Join(src, "lost.bin"), data, 0o644))
	first := backupTo(t, s, src, blockstore.ID{}, BackupOptions{})
	lost := segmentShards(t, root) // holds lost.bin's chunks
	must(os.WriteFile(filepath.Join(src, "new.txt"), []byte("written later"), 0o644))
	second := backupTo(t, s, src, first.Root, BackupOptions{}) // new root dir, in a new segment
	for _, f := range lost[:3] {
		must(os.Remove(f))
	}

	dst := filepath.Join(t.TempDir(), "dst")
	_, err := Restore(ctx, s, second.Root, dst, RestoreOptions{})
	var ce *blockstore.CorruptionError
	if err == nil || !errors.As(err, &ce) || ce.Segment == 0 || ce.Chunk.IsZero() || !strings.Contains(err.Error(), "lost.bin") {
		t.Fatalf("restore with 3 of 6 shards lost: %v; want a failure naming lost.bin, its segment and chunk", err)
	}
	if !IsDataLoss(err) {
		t.Fatalf("IsDataLoss(%v) = false", err)
	}
	if _, serr := os.Lstat(filepath.Join(dst, "lost.bin")); !os.IsNotExist(serr) {
		t.Fatalf("lost.bin left behind after a failed restore: %v", serr)
	}
}
