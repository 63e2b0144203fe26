package vault

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/policy"
)

func TestPointRoundTripAndSameSecondBump(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	mustItem(t, v, "db", "")
	at := clock.Now().Add(1500 * time.Millisecond) // .5 s is truncated
	in := Point{Item: "db", Time: at, Kind: Incremental, Consistency: ConsistencyFileSystem,
		ConsistencyReason: "pre-freeze hook exited 1", SourceBytes: 1 << 30, BytesRead: 1 << 20,
		BytesStored: 1 << 19, Root: rootOf("r1"), SourceState: "bitmap-gen-7", Warnings: 2, Job: "j1"}
	p1, err := v.AddPoint(ctx, in)
	must(t, err)
	if p1.ID != "2026-01-01T00:00:01Z" {
		t.Fatalf("id = %s", p1.ID)
	}
	if want := p1.Time.AddDate(0, 0, 30); !p1.Expiry.Equal(want) || len(p1.Tiers) != 1 || p1.Tiers[0] != policy.TierDaily {
		t.Fatalf("tiers %v expiry %s, want daily until %s", p1.Tiers, p1.Expiry, want)
	}
	got, err := v.Point(ctx, "db", "2026-01-01T01:00:01+01:00") // same instant, other offset
	must(t, err)
	a, _ := json.Marshal(p1)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("round trip:\n%s\n%s", a, b)
	}
	if !strings.Contains(string(a), `"root":"`+rootOf("r1").String()+`"`) {
		t.Fatalf("root is not hex in %s", a)
	}
	// Same second twice, then a clock that went back: each bumps past the newest.
	p2 := mustPoint(t, v, "db", at)
	p3 := mustPoint(t, v, "db", at.Add(-time.Hour))
	if p2.ID != "2026-01-01T00:00:02Z" || p3.ID != "2026-01-01T00:00:03Z" {
		t.Fatalf("bumped ids %s %s", p2.ID, p3.ID)
	}
	latest, err := v.Point(ctx, "db", Latest)
	must(t, err)
	if latest.ID != p3.ID {
		t.Fatalf("latest = %s, want %s", latest.ID, p3.ID)
	}
	ps, err := v.Points(ctx, "db")
	must(t, err)
	if len(ps) != 3 || ps[0].ID != p1.ID || ps[2].ID != p3.ID {
		t.Fatalf("points = %v", ps)
	}
	_, err = v.Point(ctx, "db", "yesterday")
	wantErr(t, err, ErrInvalid, "RFC 3339")
	_, err = v.Point(ctx, "db", "2020-01-01T00:00:00Z")
	wantErr(t, err, ErrNotFound, "rewind points db")
}

func TestOnDemandPoint(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	mustItem(t, v, "db", "")
	until := clock.Now().AddDate(1, 0, 0)
	p, err := v.AddPoint(ctx, Point{Item: "db", Time: clock.Now(), Kind: Full, Consistency: ConsistencyCrash,
		Root: rootOf("od"), OnDemand: true, RetainUntil: until})
	must(t, err)
	if !p.Expiry.Equal(until) || len(p.Tiers) != 0 {
		t.Fatalf("on-demand point = %+v", p)
	}
	_, err = v.AddPoint(ctx, Point{Item: "db", Time: clock.Now(), Kind: Full, Consistency: ConsistencyCrash,
		Root: rootOf("od"), OnDemand: true, RetainUntil: clock.Now().Add(-time.Hour)})
	wantErr(t, err, ErrInvalid, "retain-until")
}

func TestAddPointChecksRecord(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	mustItem(t, v, "db", "")
	for _, p := range []Point{
		{Item: "db", Time: clock.Now(), Kind: "partial", Consistency: ConsistencyCrash, Root: rootOf("a")},
		{Item: "db", Time: clock.Now(), Kind: Full, Consistency: "perfect", Root: rootOf("a")},
		{Item: "db", Time: clock.Now(), Kind: Full, Consistency: ConsistencyCrash},
	} {
		_, err := v.AddPoint(ctx, p)
		wantErr(t, err, ErrInvalid)
	}
	_, err := v.AddPoint(ctx, Point{Item: "nope", Time: clock.Now(), Kind: Full, Consistency: ConsistencyCrash, Root: rootOf("a")})
	wantErr(t, err, ErrNotFound, `"nope"`)
}
