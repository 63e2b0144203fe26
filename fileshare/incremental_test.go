package fileshare

import (
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeManyFiles writes n files of 100 B .. 8 KiB spread over 100 directories.
func makeManyFiles(t testing.TB, root string, n int) []string {
	r := rand.New(rand.NewPCG(7, 8))
	var paths []string
	for i := 0; i < n; i++ {
		p := filepath.Join(root, "d"+itoa(i%100), "file"+itoa(i))
		writeFile(t, p, randData(r, 100+r.IntN(8<<10)), 0o644)
		paths = append(paths, p)
	}
	return paths
}

func hashTree(t testing.TB, root string) map[string][32]byte {
	out := map[string][32]byte{}
	must(t, filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = sha256.Sum256(b)
		return err
	}))
	return out
}

func TestIncrementalReadsOnlyChangedFiles(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	paths := makeManyFiles(t, src, 10000)
	s := newStore(t)
	full := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	if full.FilesRead != 10000 || full.FilesScanned != 10000 || len(full.Warnings) != 0 {
		t.Fatalf("full backup: %+v", full)
	}
	state1 := hashTree(t, src)
	changed := []string{paths[5], paths[5000], paths[9999]}
	var want int64
	for i, p := range changed {
		data := []byte(strings.Repeat("changed ", 200+i))
		must(t, os.WriteFile(p, data, 0o644))
		want += int64(len(data))
	}
	inc := backupTo(t, s, src, full.Root, BackupOptions{})
	if inc.FilesRead != 3 || inc.BytesRead != want || inc.FilesScanned != 10000 {
		t.Fatalf("incremental read %d files / %d bytes, want 3 / %d (%+v)", inc.FilesRead, inc.BytesRead, want, inc)
	}
	if inc.BytesNew >= full.BytesNew/10 {
		t.Errorf("incremental stored %d new bytes of %d in the full", inc.BytesNew, full.BytesNew)
	}
	state2 := hashTree(t, src)
	for i, pt := range []struct {
		root  [32]byte
		state map[string][32]byte
	}{{full.Root, state1}, {inc.Root, state2}} {
		dst := filepath.Join(t.TempDir(), "dst")
		if _, err := Restore(ctx, s, pt.root, dst, RestoreOptions{}); err != nil {
			t.Fatal(err)
		}
		got := hashTree(t, dst)
		if len(got) != len(pt.state) {
			t.Fatalf("point %d: %d files restored, want %d", i, len(got), len(pt.state))
		}
		for k, v := range pt.state {
			if got[k] != v {
				t.Fatalf("point %d: %s differs from its state", i, k)
			}
		}
	}
}
