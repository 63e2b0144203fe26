package vault

import (
	"context"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// TestSweepOverYears takes a nightly backup for 90 days, then the source
// disappears and years pass: expired points go, the newest never does.
func TestSweepOverYears(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	mustItem(t, v, "db", "")
	start := clock.Now().Add(22*time.Hour + 30*time.Minute)
	for d := 0; d < 90; d++ {
		mustPoint(t, v, "db", start.AddDate(0, 0, d))
	}
	now := start.AddDate(0, 0, 89).Add(time.Minute)
	res, err := v.Expire(ctx, now)
	must(t, err)
	ps, _ := v.Points(ctx, "db")
	if len(res.PointsDeleted) != 60 || len(ps) != 30 {
		t.Fatalf("after 90 nights: %d deleted, %d kept; want 60, 30", len(res.PointsDeleted), len(ps))
	}
	for _, years := range []int{1, 3, 10} {
		res, err = v.Expire(ctx, now.AddDate(years, 0, 0))
		must(t, err)
		ps, _ = v.Points(ctx, "db")
		if len(ps) != 1 || ps[0].Time != start.AddDate(0, 0, 89) {
			t.Fatalf("after %d years: %d points left (%v), want only the newest", years, len(ps), ps)
		}
	}
	// A stopped item keeps its newest point too.
	_, err = v.StopProtection(ctx, "db", false, "alice")
	must(t, err)
	_, err = v.Expire(ctx, now.AddDate(20, 0, 0))
	must(t, err)
	if ps, _ = v.Points(ctx, "db"); len(ps) != 1 {
		t.Fatalf("stopped item has %d points, want 1", len(ps))
	}
}

func TestImmutablePointsOutliveDeletion(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	mustItem(t, v, "db", "")
	p1 := mustPoint(t, v, "db", clock.Now())
	mustPoint(t, v, "db", clock.Now().Add(time.Hour))
	_, err := v.SetImmutability(ctx, ImmutabilityLocked, "alice")
	must(t, err)
	err = v.DeletePoint(ctx, "db", p1.ID, "mallory")
	wantErr(t, err, ErrImmutable, p1.ID, "expires")

	// Stop with delete is a soft delete that lasts at least until the points expire.
	_, err = v.SetSoftDeleteDays(ctx, 14, "alice")
	must(t, err)
	it, err := v.StopProtection(ctx, "db", true, "mallory")
	must(t, err)
	last := clock.Now().Add(time.Hour).AddDate(0, 0, 30)
	if !it.PurgeAt.Equal(last) {
		t.Fatalf("purge at %s, want the last expiry %s", it.PurgeAt, last)
	}
	res, err := v.Expire(ctx, clock.Now().AddDate(0, 0, 29))
	must(t, err)
	if len(res.PointsDeleted) != 0 {
		t.Fatalf("deleted before expiry: %+v", res)
	}
	clock.Add(31 * 24 * time.Hour)
	must(t, v.DeletePoint(ctx, "db", p1.ID, "alice"))
	res, err = v.Expire(ctx, clock.Now())
	must(t, err)
	if len(res.ItemsPurged) != 1 {
		t.Fatalf("sweep after expiry = %+v", res)
	}
}

// TestSweepCollectsChunksOfDeletedPoints runs GC through the real blockstore:
// the root chunk is each point's only reference.
func TestSweepCollectsChunksOfDeletedPoints(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	st := v.Store()
	mustItem(t, v, "old", "")
	mustItem(t, v, "gone", "")
	_, err := v.AddItem(ctx, ItemSpec{Name: "files", Source: Source{Kind: KindShare, Path: "/srv"}})
	must(t, err)
	w := st.NewWriter()
	put := func(s string) blockstore.ID { // one segment per chunk: GC frees whole segments
		r, err := w.Put(ctx, []byte(s))
		must(t, err)
		must(t, w.Flush(ctx))
		return r.ID
	}
	expired, newest, deleted, share := put("old point 1"), put("old point 2"), put("soft-deleted"), put("share root")
	addRoot := func(item string, at time.Time, root blockstore.ID) {
		_, err := v.AddPoint(ctx, Point{Item: item, Time: at, Kind: Full, Consistency: ConsistencyCrash, Root: root})
		must(t, err)
	}
	addRoot("old", clock.Now(), expired)
	addRoot("old", clock.Now().AddDate(0, 0, 1), newest)
	addRoot("gone", clock.Now(), deleted)
	addRoot("files", clock.Now(), share)
	must(t, w.Close())
	_, err = v.SetSoftDeleteDays(ctx, 60, "alice")
	must(t, err)
	_, err = v.StopProtection(ctx, "gone", true, "alice")
	must(t, err)

	_, err = v.Sweep(ctx, clock.Now(), Walkers{KindDisk: testWalkers()[KindDisk]})
	wantErr(t, err, ErrInvalid, "share", "nothing was collected")

	res, err := v.Sweep(ctx, clock.Now().AddDate(0, 0, 40), testWalkers())
	must(t, err)
	if len(res.PointsDeleted) != 1 || res.GC.DeadChunks != 1 {
		t.Fatalf("sweep = %+v", res)
	}
	for id, want := range map[blockstore.ID]bool{expired: false, newest: true, deleted: true, share: true} {
		has, err := st.Has(ctx, id)
		must(t, err)
		if has != want {
			t.Fatalf("chunk %s present %v, want %v", id, has, want)
		}
	}
	// After the soft-delete period the deleted item's chunk goes too.
	res, err = v.Sweep(ctx, clock.Now().AddDate(0, 0, 61), testWalkers())
	must(t, err)
	if len(res.ItemsPurged) != 1 {
		t.Fatalf("sweep after the period = %+v", res)
	}
	if has, _ := st.Has(ctx, deleted); has {
		t.Fatal("chunk of a purged item survives GC")
	}
	if b, err := st.Get(ctx, newest); err != nil || string(b) != "old point 2" {
		t.Fatalf("newest point's chunk: %q, %v", b, err)
	}
}
