package vault

import (
	"context"
	"testing"
	"time"
)

func TestUsageFromPointRecords(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	mustItem(t, v, "db", "")
	mustItem(t, v, "empty", "")
	for i, stored := range []int64{800, 50, 30} {
		_, err := v.AddPoint(ctx, Point{Item: "db", Time: clock.Now().Add(time.Duration(i) * time.Hour), Kind: Full,
			Consistency: ConsistencyCrash, Root: rootOf("u"), SourceBytes: 1000, BytesStored: stored})
		must(t, err)
	}
	us, err := v.Usage(ctx)
	must(t, err)
	want := []ItemUsage{
		{Item: "db", State: StateProtected, Points: 3, SourceBytes: 1000, StoredBytes: 880, SharedBytes: 120},
		{Item: "empty", State: StatePending},
	}
	if len(us) != 2 || us[0] != want[0] || us[1] != want[1] {
		t.Fatalf("usage = %+v, want %+v", us, want)
	}
}

func TestChangePassphrase(t *testing.T) {
	ctx := context.Background()
	h, v, clock, dir := testVault(t)
	err := v.ChangePassphrase(ctx, []byte("wrong"), []byte("new one"))
	wantErr(t, err, ErrInvalid, "current passphrase")
	must(t, v.ChangePassphrase(ctx, testPass, []byte("new one")))
	must(t, h.Close())
	v2, err := testHost(t, dir, clock).Vault("prod-1")
	must(t, err)
	wantErr(t, v2.CheckUnlocked(), ErrLocked, `rewind vault unlock prod-1`)
	wantErr(t, v2.Unlock(testPass), ErrInvalid)
	must(t, v2.Unlock([]byte("new one")))
	must(t, v2.CheckUnlocked())
}
