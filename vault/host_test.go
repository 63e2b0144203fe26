package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/policy"
)

func TestEverythingPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	h, v, clock, dir := testVault(t)
	weekly := policy.Default()
	weekly.Retention.Weekly = &policy.WeeklyTier{Weeks: 8, Day: policy.Weekday(time.Sunday)}
	_, err := v.CreatePolicy(ctx, "weekly", weekly)
	must(t, err)
	mustItem(t, v, "db-1", "weekly")
	p := mustPoint(t, v, "db-1", clock.Now())
	job, err := v.CreateJob(ctx, Job{Type: JobVerify, RequestedBy: "alice"})
	must(t, err)
	_, err = v.FinishJob(ctx, job.ID, nil, "one shard slow")
	must(t, err)
	_, err = v.SetSoftDeleteDays(ctx, 30, "alice")
	must(t, err)
	_, err = v.SetMultiUserApproval(ctx, true, "alice")
	must(t, err)
	bw := Bandwidth{WorkRate: MinRate, OffRate: 0, WorkDays: []time.Weekday{time.Monday}, WorkStart: "08:00", WorkEnd: "18:00", Zone: "Europe/Berlin"}
	_, err = v.SetBandwidth(ctx, bw, "alice")
	must(t, err)
	req, err := v.CreateApproval(ctx, ApprovalRequest{Operation: "disable soft delete", Requester: "alice"})
	must(t, err)
	must(t, h.Close())

	h2 := testHost(t, dir, clock)
	v2, err := h2.Vault("prod-1")
	must(t, err)
	if !v2.Locked() {
		t.Fatal("reopened vault is not locked")
	}
	list := h2.List(ctx)
	if len(list) != 1 || list[0].Name != "prod-1" || !list[0].Locked || list[0].Items != 1 || list[0].Layout.DataShards != 2 {
		t.Fatalf("List after reopen = %+v", list)
	}
	// Catalog reads work while locked.
	got, err := v2.Point(ctx, "db-1", p.ID)
	must(t, err)
	if got.Root != p.Root || !got.Expiry.Equal(p.Expiry) || got.SourceBytes != 100 {
		t.Fatalf("point after reopen = %+v, want %+v", got, p)
	}
	pol, err := v2.Policy(ctx, "weekly")
	must(t, err)
	if pol.Spec.Retention.Weekly == nil || pol.Spec.Retention.Weekly.Weeks != 8 {
		t.Fatalf("policy after reopen = %+v", pol)
	}
	s, err := v2.Settings()
	must(t, err)
	if s.SoftDeleteDays != 30 || !s.MultiUserApproval || s.Bandwidth.Zone != "Europe/Berlin" || s.Bandwidth.WorkRate != MinRate {
		t.Fatalf("settings after reopen = %+v", s)
	}
	j, err := v2.Job(ctx, job.ID)
	must(t, err)
	if j.Status != JobCompletedWithWarnings || len(j.Warnings) != 1 {
		t.Fatalf("job after reopen = %+v", j)
	}
	if _, err := v2.Approval(ctx, req.ID); err != nil {
		t.Fatal(err)
	}
	if err := v2.Unlock([]byte("wrong")); !errors.Is(err, ErrInvalid) || !errors.Is(err, blockstore.ErrWrongPassphrase) {
		t.Fatalf("Unlock with a wrong passphrase: %v", err)
	}
	must(t, v2.Unlock(testPass))
	if v2.Locked() {
		t.Fatal("still locked after Unlock")
	}
}

func TestNewVaultHasDefaultPolicyAndSettings(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	pols, err := v.Policies(ctx)
	must(t, err)
	if len(pols) != 1 || pols[0].Name != DefaultPolicyName || pols[0].Spec.Retention.Daily.Days != 30 {
		t.Fatalf("policies of a new vault = %+v", pols)
	}
	s, err := v.Settings()
	must(t, err)
	if s.SoftDeleteDays != 14 || s.Immutability != ImmutabilityOff || s.MultiUserApproval {
		t.Fatalf("settings of a new vault = %+v", s)
	}
	err = v.DeletePolicy(ctx, DefaultPolicyName)
	wantErr(t, err, ErrInvalid, "cannot be deleted")
}

func TestExportKey(t *testing.T) {
	_, v, _, _ := testVault(t)
	path := filepath.Join(t.TempDir(), "key.json")
	must(t, v.ExportKey(context.Background(), path))
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Fatalf("key file mode %v size %d", fi.Mode(), fi.Size())
	}
	wantErr(t, v.ExportKey(context.Background(), path), ErrExists, path)
}

func TestUnknownCatalogVersionIsRefused(t *testing.T) {
	h, v, clock, dir := testVault(t)
	must(t, v.Store().DB().Set([]byte(keyFormat), []byte(`{"v":99}`), pebble.Sync))
	must(t, h.Close())
	h2 := testHost(t, dir, clock)
	_, err := h2.Vault("prod-1")
	if !errors.Is(err, blockstore.ErrUnknownFormat) || !strings.Contains(err.Error(), "prod-1") {
		t.Fatalf("Vault with catalog v99: %v", err)
	}
}

// TestKeyFileRewrapsPassphrase: the exported key file proves the right to a
// new passphrase; the old one stops working.
func TestKeyFileRewrapsPassphrase(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	path := filepath.Join(t.TempDir(), "key.json")
	must(t, v.ExportKey(ctx, path))
	kf, err := os.ReadFile(path)
	must(t, err)
	must(t, v.UnlockKeyFile(kf))
	wantErr(t, v.UnlockKeyFile([]byte(`{"format":"rewind vault key","version":2,"master":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`)), ErrInvalid, "another vault's key")
	must(t, v.ChangePassphraseKeyFile(ctx, kf, []byte("brand new one")))
	wantErr(t, v.Unlock(testPass), ErrInvalid, "does not unlock")
	must(t, v.Unlock([]byte("brand new one")))
}
