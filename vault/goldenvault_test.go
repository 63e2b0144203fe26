package vault

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// goldenVaultDir holds a host data directory made by this version's code
// (go test ./vault -run GoldenVault -update); every later version must read it.
const goldenVaultDir = "testdata/golden-host-v1"

var goldenContent = []byte("golden chunk: the root of db's only point")

func makeGoldenVault(t *testing.T, dir string) {
	ctx := context.Background()
	clock := newClock("2026-03-01T22:30:00Z")
	h, err := OpenHost(ctx, dir, HostOptions{Now: clock.Now})
	must(t, err)
	defer h.Close()
	v, err := h.Create(ctx, "gold", testPass, CreateOptions{Layout: StorageLayout{DataShards: 2, ParityShards: 1}})
	must(t, err)
	_, err = v.CreatePolicy(ctx, "keep-long", daily(400))
	must(t, err)
	mustItem(t, v, "db", "keep-long")
	_, err = v.AddItem(ctx, ItemSpec{Name: "files", Source: Source{Kind: KindShare, Path: "/srv/files"}})
	must(t, err)
	w := v.Store().NewWriter()
	r, err := w.Put(ctx, goldenContent)
	must(t, err)
	must(t, w.Flush(ctx))
	j, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: "db", RequestedBy: "alice"})
	must(t, err)
	_, err = v.AddPoint(ctx, Point{Item: "db", Time: clock.Now(), Kind: Full, Consistency: ConsistencyApplication,
		SourceBytes: 4 << 20, BytesRead: 4 << 20, BytesStored: 100, Root: r.ID, Job: j.ID})
	must(t, err)
	must(t, w.Close())
	_, err = v.FinishJob(ctx, j.ID, nil)
	must(t, err)
	_, err = v.StopProtection(ctx, "files", true, "alice")
	must(t, err)
	_, err = v.SetImmutability(ctx, ImmutabilityOn, "alice")
	must(t, err)
}

func TestGoldenVault(t *testing.T) {
	if *update {
		must(t, os.RemoveAll(goldenVaultDir))
		makeGoldenVault(t, goldenVaultDir)
	}
	dir := t.TempDir()
	must(t, copyTree(goldenVaultDir, dir)) // opening writes to Pebble: use a copy
	ctx := context.Background()
	h := testHost(t, dir, newClock("2026-06-01T00:00:00Z"))
	v, err := h.Vault("gold")
	must(t, err)
	must(t, v.Unlock(testPass))
	p, err := v.Point(ctx, "db", Latest)
	must(t, err)
	if p.ID != "2026-03-01T22:30:00Z" || p.Consistency != ConsistencyApplication || !p.Expiry.Equal(p.Time.AddDate(0, 0, 400)) {
		t.Fatalf("golden point = %+v", p)
	}
	b, err := v.Store().Get(ctx, p.Root)
	if err != nil || string(b) != string(goldenContent) {
		t.Fatalf("golden root chunk = %q, %v", b, err)
	}
	it, err := v.Item(ctx, "files")
	must(t, err)
	if it.State != StateDeleted || !it.PurgeAt.Equal(time.Date(2026, 3, 15, 22, 30, 0, 0, time.UTC)) {
		t.Fatalf("golden soft-deleted item = %+v", it)
	}
	s, err := v.Settings()
	must(t, err)
	jobs, err := v.Jobs(ctx, JobFilter{Item: "db"})
	must(t, err)
	if s.Immutability != ImmutabilityOn || len(jobs) != 1 || jobs[0].Status != JobCompleted {
		t.Fatalf("golden settings %+v jobs %+v", s, jobs)
	}
}

// copyTree copies the regular files and directories under src into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
}
