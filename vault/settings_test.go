package vault

import (
	"context"
	"testing"
	"time"
)

func TestSoftDeletePeriodRules(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	for _, days := range []int{1, 13, 181, -1} {
		_, err := v.SetSoftDeleteDays(ctx, days, "alice")
		wantErr(t, err, ErrInvalid, "14–180 days")
	}
	for _, days := range []int{14, 180, 0, 60} {
		s, err := v.SetSoftDeleteDays(ctx, days, "alice")
		must(t, err)
		if s.SoftDeleteDays != days {
			t.Fatalf("soft delete days = %d, want %d", s.SoftDeleteDays, days)
		}
	}
	_, err := v.SetImmutability(ctx, ImmutabilityLocked, "alice")
	must(t, err)
	_, err = v.SetSoftDeleteDays(ctx, 0, "mallory")
	wantErr(t, err, ErrImmutable, "cannot be disabled")
	_, err = v.SetSoftDeleteDays(ctx, 7, "mallory")
	wantErr(t, err, ErrInvalid, "14–180")
	s, _ := v.Settings()
	if s.SoftDeleteDays != 60 {
		t.Fatalf("refused changes changed the period to %d", s.SoftDeleteDays)
	}
}

func TestImmutabilityTransitionsAndAudit(t *testing.T) {
	ctx := context.Background()
	h, v, clock, dir := testVault(t)
	steps := []struct {
		to   Immutability
		kind error
	}{
		{ImmutabilityOn, nil},
		{ImmutabilityOff, nil},
		{"maybe", ErrInvalid},
		{ImmutabilityLocked, nil},
		{ImmutabilityOff, ErrImmutable},
		{ImmutabilityOn, ErrImmutable},
		{ImmutabilityLocked, nil},
	}
	for _, st := range steps {
		clock.Add(time.Second)
		_, err := v.SetImmutability(ctx, st.to, "mallory")
		if st.kind == nil {
			must(t, err)
			continue
		}
		wantErr(t, err, st.kind)
	}
	audit, err := v.Audit(ctx)
	must(t, err)
	refused := 0
	for _, a := range audit {
		if a.Outcome == OutcomeRefused {
			refused++
			if a.Principal != "mallory" || a.Detail == "" {
				t.Fatalf("refusal record = %+v", a)
			}
		}
	}
	if len(audit) != len(steps) || refused != 3 {
		t.Fatalf("audit has %d records (%d refused), want %d (3): %+v", len(audit), refused, len(steps), audit)
	}
	must(t, h.Close())
	h2 := testHost(t, dir, clock)
	v2, err := h2.Vault("prod-1")
	must(t, err)
	_, err = v2.SetImmutability(ctx, ImmutabilityOff, "mallory")
	wantErr(t, err, ErrImmutable, "irreversible")
	audit, _ = v2.Audit(ctx)
	if len(audit) != len(steps)+1 {
		t.Fatalf("audit after reopen has %d records", len(audit))
	}
}

func TestImmutabilityNeedsSoftDelete(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	_, err := v.SetSoftDeleteDays(ctx, 0, "alice")
	must(t, err)
	_, err = v.SetImmutability(ctx, ImmutabilityOn, "alice")
	wantErr(t, err, ErrInvalid, "--soft-delete-days 14")
}

func TestBandwidthValidation(t *testing.T) {
	ok := []Bandwidth{
		{},
		{WorkRate: MinRate, OffRate: MaxRate, WorkDays: []time.Weekday{time.Monday, time.Friday}, WorkStart: "08:00", WorkEnd: "18:30", Zone: "America/New_York"},
	}
	for _, b := range ok {
		if err := b.Validate(); err != nil {
			t.Errorf("%+v: %v", b, err)
		}
	}
	bad := []struct {
		b    Bandwidth
		says string
	}{
		{Bandwidth{WorkRate: MinRate - 1}, "512 Kbit/s"},
		{Bandwidth{OffRate: MaxRate + 1}, "1023 MB/s"},
		{Bandwidth{WorkStart: "8:00", WorkEnd: "18:00"}, "HH:MM"},
		{Bandwidth{WorkStart: "18:00", WorkEnd: "08:00"}, "end before"},
		{Bandwidth{WorkStart: "24:00", WorkEnd: "25:00"}, "HH:MM"},
		{Bandwidth{Zone: "Mars/Olympus"}, "IANA"},
		{Bandwidth{WorkDays: []time.Weekday{7}}, "weekday"},
	}
	for _, tc := range bad {
		wantErr(t, tc.b.Validate(), ErrInvalid, tc.says)
	}
	b := ok[1]
	ny, _ := time.LoadLocation("America/New_York")
	if r := b.RateAt(time.Date(2026, 3, 2, 9, 0, 0, 0, ny)); r != MinRate { // Monday 09:00
		t.Errorf("Monday 09:00 rate = %d", r)
	}
	if r := b.RateAt(time.Date(2026, 3, 3, 9, 0, 0, 0, ny)); r != MaxRate { // Tuesday
		t.Errorf("Tuesday 09:00 rate = %d", r)
	}
	if r := b.RateAt(time.Date(2026, 3, 2, 18, 30, 0, 0, ny)); r != MaxRate { // end is exclusive
		t.Errorf("Monday 18:30 rate = %d", r)
	}
}

func TestApprovals(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	a, err := v.CreateApproval(ctx, ApprovalRequest{Operation: "disable soft delete", Detail: "vault prod-1", Requester: "alice"})
	must(t, err)
	_, err = v.Approve(ctx, a.ID, "alice")
	wantErr(t, err, ErrInvalid, "cannot approve")
	pending, _ := v.Approvals(ctx, true)
	if len(pending) != 1 {
		t.Fatalf("pending = %+v", pending)
	}
	a, err = v.Approve(ctx, a.ID, "bob")
	must(t, err)
	if a.ApprovedBy != "bob" || a.Approved.IsZero() {
		t.Fatalf("approved = %+v", a)
	}
	_, err = v.Approve(ctx, a.ID, "carol")
	wantErr(t, err, ErrConflict, "bob")
	_, err = v.Reject(ctx, a.ID, "carol", "")
	wantErr(t, err, ErrConflict, "already approved")
	pending, _ = v.Approvals(ctx, true)
	all, _ := v.Approvals(ctx, false)
	if len(pending) != 0 || len(all) != 1 {
		t.Fatalf("pending %d all %d", len(pending), len(all))
	}
	must(t, v.DeleteApproval(ctx, a.ID))
	_, err = v.Approval(ctx, a.ID)
	wantErr(t, err, ErrNotFound)
}

// TestApprovalExpiryAndReject: a request expires after its TTL and cannot be
// approved then; a rejected one cannot be approved either.
func TestApprovalExpiryAndReject(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	a, err := v.CreateApproval(ctx, ApprovalRequest{Operation: "stop-with-delete", Requester: "alice", TTL: time.Hour})
	must(t, err)
	b, err := v.CreateApproval(ctx, ApprovalRequest{Operation: "stop-with-delete", Requester: "alice"})
	must(t, err)
	clock.Add(2 * time.Hour)
	if st := a.State(clock.Now()); st != ApprovalExpired {
		t.Fatalf("after its TTL the request is %s", st)
	}
	_, err = v.Approve(ctx, a.ID, "bob")
	wantErr(t, err, ErrConflict, "expired")
	pending, _ := v.Approvals(ctx, true)
	if len(pending) != 1 || pending[0].ID != b.ID {
		t.Fatalf("pending after expiry = %+v", pending)
	}
	b, err = v.Reject(ctx, b.ID, "bob", "not today")
	must(t, err)
	if b.State(clock.Now()) != ApprovalRejected || b.Reason != "not today" {
		t.Fatalf("rejected = %+v", b)
	}
	_, err = v.Approve(ctx, b.ID, "carol")
	wantErr(t, err, ErrConflict, "rejected")
}

// TestCheckSettings: an impossible change is reported without being made.
func TestCheckSettings(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	off, zero := ImmutabilityOff, 0
	must(t, v.CheckSettings(SettingsChange{Immutability: &off, SoftDeleteDays: &zero}))
	_, err := v.SetImmutability(ctx, ImmutabilityLocked, "alice")
	must(t, err)
	wantErr(t, v.CheckSettings(SettingsChange{Immutability: &off}), ErrImmutable, "irreversible")
	wantErr(t, v.CheckSettings(SettingsChange{SoftDeleteDays: &zero}), ErrImmutable, "cannot be disabled")
	if s, _ := v.Settings(); s.Immutability != ImmutabilityLocked || s.SoftDeleteDays != DefaultSoftDeleteDays {
		t.Fatalf("a check changed the settings: %+v", s)
	}
}
