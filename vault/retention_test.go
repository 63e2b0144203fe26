package vault

import (
	"context"
	"testing"

	"github.com/rewind-backup/rewind/policy"
)

func daily(days int) policy.Policy {
	p := policy.Default()
	p.Retention = policy.Retention{Daily: &policy.DailyTier{Days: days}}
	return p
}

func TestRetentionShorteningRefusedUnderImmutability(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	_, err := v.CreatePolicy(ctx, "keep", daily(30))
	must(t, err)
	_, err = v.CreatePolicy(ctx, "short", daily(7))
	must(t, err)
	mustItem(t, v, "db", "keep")
	p := mustPoint(t, v, "db", clock.Now())
	_, err = v.SetImmutability(ctx, ImmutabilityOn, "alice")
	must(t, err)

	_, _, err = v.UpdatePolicy(ctx, "keep", daily(10), "mallory")
	wantErr(t, err, ErrImmutable, `"keep"`, "lengthened but not shortened")
	short := "short"
	_, err = v.UpdateItem(ctx, "db", ItemUpdate{Policy: &short}, "mallory")
	wantErr(t, err, ErrImmutable, `"short"`)
	got, _ := v.Point(ctx, "db", p.ID)
	if !got.Expiry.Equal(p.Expiry) {
		t.Fatalf("refused change moved expiry %s → %s", p.Expiry, got.Expiry)
	}

	_, n, err := v.UpdatePolicy(ctx, "keep", daily(90), "alice")
	must(t, err)
	got, _ = v.Point(ctx, "db", p.ID)
	if n != 1 || !got.Expiry.Equal(p.Time.AddDate(0, 0, 90)) {
		t.Fatalf("lengthening re-expired %d points, expiry %s", n, got.Expiry)
	}
	audit, _ := v.Audit(ctx)
	refused := 0
	for _, a := range audit {
		if a.Outcome == OutcomeRefused {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("refused attempts audited: %d, want 2", refused)
	}
}

func TestPolicyChangeReexpiresWhenMutable(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	_, err := v.CreatePolicy(ctx, "short", daily(7))
	must(t, err)
	mustItem(t, v, "db", "")
	p := mustPoint(t, v, "db", clock.Now())
	short := "short"
	_, err = v.UpdateItem(ctx, "db", ItemUpdate{Policy: &short}, "alice")
	must(t, err)
	got, _ := v.Point(ctx, "db", p.ID)
	if !got.Expiry.Equal(p.Time.AddDate(0, 0, 7)) {
		t.Fatalf("expiry after moving to a 7-day policy = %s", got.Expiry)
	}
	err = v.DeletePolicy(ctx, "short")
	wantErr(t, err, ErrConflict, "db")
	_, err = v.CreatePolicy(ctx, "short", daily(7))
	wantErr(t, err, ErrExists)
	_, err = v.CreatePolicy(ctx, "bad", daily(0))
	wantErr(t, err, ErrInvalid, `"bad"`)
}
