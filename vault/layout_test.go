package vault

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestLayoutChangesOnlyBeforeProtection(t *testing.T) {
	ctx := context.Background()
	h, v, clock, dir := testVault(t)
	_, err := v.CreatePolicy(ctx, "keep", v.mustDefaultSpec(t))
	must(t, err)
	err = v.SetLayout(ctx, []byte("wrong"), StorageLayout{DataShards: 3, ParityShards: 2}, "alice")
	wantErr(t, err, ErrInvalid, "passphrase")

	// Leftovers of a crashed attempt are cleared.
	must(t, os.MkdirAll(filepath.Join(dir, "vaults", "prod-1", "store-2", "index"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "vaults", "prod-1", "store-2", "junk"), []byte("x"), 0o600))
	must(t, v.SetLayout(ctx, testPass, StorageLayout{DataShards: 3, ParityShards: 2}, "alice"))
	if l := v.Layout(); l.DataShards != 3 || l.ParityShards != 2 || len(l.Targets) != 5 {
		t.Fatalf("layout after change = %+v", l)
	}
	if _, err := os.Stat(filepath.Join(dir, "vaults", "prod-1", "store")); !os.IsNotExist(err) {
		t.Fatalf("old store survives the change: %v", err)
	}
	// The catalog came along.
	if _, err := v.Policy(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
	mustItem(t, v, "db-1", "")
	err = v.SetLayout(ctx, testPass, StorageLayout{DataShards: 4, ParityShards: 2}, "alice")
	wantErr(t, err, ErrConflict, "fixed", `"db-1"`, "create a new vault")
	audit, err := v.Audit(ctx)
	must(t, err)
	if n := len(audit); n < 2 || audit[n-1].Outcome != OutcomeRefused {
		t.Fatalf("audit = %+v", audit)
	}

	must(t, h.Close())
	h2 := testHost(t, dir, clock)
	v2, err := h2.Vault("prod-1")
	must(t, err)
	if l := v2.Layout(); l.DataShards != 3 || l.ParityShards != 2 {
		t.Fatalf("layout after reopen = %+v", l)
	}
	must(t, v2.Unlock(testPass))
	if _, err := v2.Item(ctx, "db-1"); err != nil {
		t.Fatal(err)
	}
}
