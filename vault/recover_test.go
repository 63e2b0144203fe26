package vault

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeMarker puts a create marker for name into dir as create would.
func writeMarker(t *testing.T, dir, name string, writes ...string) {
	t.Helper()
	m := createMarker{Format: createMarkerFormat, V: 1, Name: name, Store: "store", Writes: writes}
	b, err := json.Marshal(m)
	must(t, err)
	must(t, os.MkdirAll(dir, 0o700))
	must(t, os.WriteFile(filepath.Join(dir, createMarkerName), b, 0o600))
}

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Stat(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return err == nil
}

func TestMissingVaultFileIsReportedNeverRemoved(t *testing.T) {
	ctx := context.Background()
	h, _, clock, dir := testVault(t)
	must(t, h.Close())
	vdir := filepath.Join(dir, "vaults", "prod-1")
	vf := filepath.Join(vdir, vaultFileName)
	must(t, os.Rename(vf, vf+".away"))
	// A directory with a store but neither vault.json nor marker: also kept.
	must(t, os.MkdirAll(filepath.Join(dir, "vaults", "half", "store"), 0o700))

	h2 := testHost(t, dir, clock)
	if !exists(t, filepath.Join(vdir, "store")) || !exists(t, filepath.Join(vdir, "shards", "0")) || !exists(t, filepath.Join(dir, "vaults", "half", "store")) {
		t.Fatal("start-up removed a directory without vault.json")
	}
	list := h2.List(ctx)
	if len(list) != 2 || !strings.Contains(list[1].Error, "vault.json is missing") || !strings.Contains(list[1].Error, "nothing was removed") {
		t.Fatalf("List = %+v", list)
	}
	if _, err := h2.Create(ctx, "prod-1", testPass, CreateOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over a vault without vault.json: %v", err)
	}
	must(t, h2.Close())
	must(t, os.Rename(vf+".away", vf))
	h3 := testHost(t, dir, clock)
	v, err := h3.Vault("prod-1")
	must(t, err)
	must(t, v.Unlock(testPass))
}

func TestInterruptedCreateWithCatalogRollsForward(t *testing.T) {
	h, _, clock, dir := testVault(t)
	must(t, h.Close())
	vdir := filepath.Join(dir, "vaults", "prod-1")
	must(t, os.Remove(filepath.Join(vdir, vaultFileName)))
	writeMarker(t, vdir, "prod-1", "store", "shards", vaultFileName+".tmp", vaultFileName)

	h2 := testHost(t, dir, clock)
	v, err := h2.Vault("prod-1")
	must(t, err)
	must(t, v.Unlock(testPass))
	if exists(t, filepath.Join(vdir, createMarkerName)) {
		t.Fatal("marker kept after roll-forward")
	}
}

func TestInterruptedCreateRemovesOnlyWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	vdir := filepath.Join(dir, "vaults", "half")
	writeMarker(t, vdir, "half", "store", "shards", vaultFileName+".tmp", vaultFileName)
	must(t, os.MkdirAll(filepath.Join(vdir, "store"), 0o700))
	must(t, os.MkdirAll(filepath.Join(vdir, "shards", "0", "keys"), 0o700))
	must(t, os.WriteFile(filepath.Join(vdir, "shards", "0", "keys", "master"), []byte("k"), 0o600))
	// A staging directory of a create that died before its rename.
	stage := filepath.Join(dir, "vaults", createStagingPfx+"x-1")
	writeMarker(t, stage, "x")

	h := testHost(t, dir, newClock("2026-01-01T00:00:00Z"))
	if exists(t, vdir) || exists(t, stage) {
		t.Fatal("interrupted create not undone")
	}
	if len(h.List(context.Background())) != 0 || len(h.Quarantined()) != 0 {
		t.Fatalf("List = %+v, quarantined = %+v", h.List(context.Background()), h.Quarantined())
	}
	_, err := h.Create(context.Background(), "half", testPass, CreateOptions{Layout: StorageLayout{DataShards: 1, ParityShards: 1}})
	must(t, err)
}

func TestUnexplainedInterruptedCreateIsQuarantined(t *testing.T) {
	for name, extra := range map[string]string{
		"foreign": "photos/cat.jpg",
		"segment": "shards/0/seg/00/0000000000000001",
		"unknown": "store-2/index",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			vdir := filepath.Join(dir, "vaults", "half")
			writeMarker(t, vdir, "half", "store", "shards", vaultFileName)
			p := filepath.Join(vdir, extra)
			must(t, os.MkdirAll(filepath.Dir(p), 0o700))
			must(t, os.WriteFile(p, []byte("data"), 0o600))

			h := testHost(t, dir, newClock("2026-01-01T00:00:00Z"))
			q := h.Quarantined()
			if len(q) != 1 || !strings.Contains(q[0].Reason, "not written by create") {
				t.Fatalf("Quarantined = %+v", q)
			}
			if !exists(t, filepath.Join(q[0].Path, extra)) || exists(t, vdir) {
				t.Fatalf("%s not moved aside intact", extra)
			}
			if len(h.List(context.Background())) != 0 {
				t.Fatalf("List = %+v", h.List(context.Background()))
			}
		})
	}
}

func TestFailedCreateLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	h := testHost(t, dir, newClock("2026-01-01T00:00:00Z"))
	file := filepath.Join(dir, "not-a-dir")
	must(t, os.WriteFile(file, nil, 0o600))
	_, err := h.Create(context.Background(), "bad", testPass, CreateOptions{Layout: StorageLayout{DataShards: 1, ParityShards: 0, Targets: []string{file}}})
	if err == nil {
		t.Fatal("Create on a file target succeeded")
	}
	if exists(t, filepath.Join(dir, "vaults", "bad")) {
		t.Fatal("failed create left its directory")
	}
}
