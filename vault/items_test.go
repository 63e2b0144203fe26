package vault

import (
	"context"
	"testing"
	"time"
)

func TestItemStateMachine(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	it := mustItem(t, v, "web", "")
	if it.State != StatePending || it.Policy != DefaultPolicyName {
		t.Fatalf("new item = %+v", it)
	}
	_, err := v.AddItem(ctx, ItemSpec{Name: "web", Source: Source{Kind: KindShare, Path: "/srv"}})
	wantErr(t, err, ErrExists, `"web"`)
	_, err = v.AddItem(ctx, ItemSpec{Name: "we_b", Source: Source{Kind: KindShare, Path: "/srv"}})
	wantErr(t, err, ErrInvalid, NameRule)
	_, err = v.AddItem(ctx, ItemSpec{Name: "files", Policy: "nope", Source: Source{Kind: KindShare, Path: "/srv"}})
	wantErr(t, err, ErrNotFound, `"nope"`)
	_, err = v.AddItem(ctx, ItemSpec{Name: "files", Source: Source{Kind: "tape"}})
	wantErr(t, err, ErrInvalid, `"tape"`)

	mustPoint(t, v, "web", clock.Now())
	it = state(t, v, "web", StateProtected)

	it, err = v.StopProtection(ctx, "web", false, "alice")
	must(t, err)
	state(t, v, "web", StateStopped)
	_, err = v.AddPoint(ctx, Point{Item: "web", Time: clock.Now(), Kind: Full, Consistency: ConsistencyCrash, Root: rootOf("x")})
	wantErr(t, err, ErrConflict, "resume")
	_, err = v.CreateJob(ctx, Job{Type: JobBackup, Item: "web"})
	wantErr(t, err, ErrConflict, "rewind item resume web")
	_, err = v.ResumeProtection(ctx, "web")
	must(t, err)
	state(t, v, "web", StateProtected)

	clock.Add(time.Hour)
	it, err = v.StopProtection(ctx, "web", true, "alice")
	must(t, err)
	it = state(t, v, "web", StateDeleted)
	if want := clock.Now().Add(14 * 24 * time.Hour); !it.PurgeAt.Equal(want) {
		t.Fatalf("purge at %s, want %s", it.PurgeAt, want)
	}
	_, err = v.ResumeProtection(ctx, "web")
	wantErr(t, err, ErrConflict, "undelete")
	_, err = v.AddItem(ctx, ItemSpec{Name: "web", Source: Source{Kind: KindShare, Path: "/srv"}})
	wantErr(t, err, ErrExists)

	_, err = v.Undelete(ctx, "web", "alice")
	must(t, err)
	state(t, v, "web", StateStopped)
	if ps, _ := v.Points(ctx, "web"); len(ps) != 1 {
		t.Fatalf("points after undelete = %d, want 1", len(ps))
	}

	// Stop with delete, then the period passes: a sweep purges.
	_, err = v.StopProtection(ctx, "web", true, "alice")
	must(t, err)
	clock.Add(14*24*time.Hour - time.Second)
	res, err := v.Expire(ctx, clock.Now())
	must(t, err)
	if len(res.ItemsPurged) != 0 {
		t.Fatalf("purged before the period ended: %+v", res)
	}
	clock.Add(time.Second)
	res, err = v.Expire(ctx, clock.Now())
	must(t, err)
	if len(res.ItemsPurged) != 1 || len(res.PointsDeleted) != 1 {
		t.Fatalf("sweep after the period = %+v", res)
	}
	state(t, v, "web", StatePurged)
	_, err = v.Undelete(ctx, "web", "alice")
	wantErr(t, err, ErrNotFound, "purged")
	// A purged item's name can be used again.
	mustItem(t, v, "web", "")
}

func TestStopWithDeleteWhenSoftDeleteIsOffPurgesAtOnce(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	_, err := v.SetSoftDeleteDays(ctx, 0, "alice")
	must(t, err)
	mustItem(t, v, "web", "")
	mustPoint(t, v, "web", clock.Now())
	_, err = v.StopProtection(ctx, "web", true, "alice")
	must(t, err)
	state(t, v, "web", StatePurged)
	if ps, _ := v.Points(ctx, "web"); len(ps) != 0 {
		t.Fatalf("%d points after purge", len(ps))
	}
}

func TestStopRefusedWhileBackupRuns(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	mustItem(t, v, "web", "")
	j, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: "web"})
	must(t, err)
	_, err = v.StopProtection(ctx, "web", true, "alice")
	wantErr(t, err, ErrConflict, j.ID)
}

func TestUpdateItem(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	mustItem(t, v, "web", "")
	share := Source{Kind: KindShare, Path: "/srv"}
	_, err := v.UpdateItem(ctx, "web", ItemUpdate{Source: &share}, "alice")
	wantErr(t, err, ErrInvalid, "add a new item")
	hook := "virsh domfsfreeze web"
	bw := &Bandwidth{WorkRate: 1}
	_, err = v.UpdateItem(ctx, "web", ItemUpdate{Bandwidth: &bw}, "alice")
	wantErr(t, err, ErrInvalid, "64000")
	bw = &Bandwidth{WorkRate: 1 << 20}
	it, err := v.UpdateItem(ctx, "web", ItemUpdate{PreFreeze: &hook, Bandwidth: &bw}, "alice")
	must(t, err)
	if it.PreFreeze != hook || it.Bandwidth.WorkRate != 1<<20 {
		t.Fatalf("updated item = %+v", it)
	}
}

func state(t *testing.T, v *Vault, name string, want ItemState) Item {
	t.Helper()
	it, err := v.Item(context.Background(), name)
	must(t, err)
	if it.State != want {
		t.Fatalf("item %s is %s, want %s", name, it.State, want)
	}
	return it
}
