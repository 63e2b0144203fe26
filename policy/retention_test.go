package policy

import (
	"testing"
	"time"
)

func TestRetentionValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Retention
		want string
	}{
		{"example a", exampleA().Retention, ""},
		{"example b", exampleB().Retention, ""},
		{"max counts", Retention{Daily: &DailyTier{9999}, Weekly: &WeeklyTier{Weeks: 9999}}, ""},
		{"empty", Retention{}, "retention keeps nothing: enable at least one of --keep-daily"},
		{"zero days", Retention{Daily: &DailyTier{0}}, "daily retention count 0 is out of range: use --keep-daily N with N from 1 to 9999"},
		{"too many weeks", Retention{Weekly: &WeeklyTier{Weeks: 10000}}, "weekly retention count 10000 is out of range"},
		{"bad weekday", Retention{Weekly: &WeeklyTier{Weeks: 1, Day: 9}}, "weekly retention day 9 is out of range"},
		{"negative months", Retention{Monthly: &MonthlyTier{Months: -1, Day: "1"}}, "monthly retention count -1"},
		{"bad monthly rule", Retention{Monthly: &MonthlyTier{Months: 1, Day: "30"}}, "monthly retention: day of month 30 is out of range"},
		{"missing monthly rule", Retention{Monthly: &MonthlyTier{Months: 1}}, `monthly retention: day rule "" is not recognised`},
		{"bad year month", Retention{Yearly: &YearlyTier{Years: 1, Month: 13, Day: "1"}}, "yearly retention month 13 is out of range"},
		{"zero years", Retention{Yearly: &YearlyTier{Years: 0, Month: 1, Day: "1"}}, "yearly retention count 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErr(t, tt.r.Validate(), tt.want) })
	}
}

func TestPolicyValidate(t *testing.T) {
	checkErr(t, Default().Validate(), "")
	bad := Policy{Schedule: daily("Nowhere/Land"), Retention: Retention{}}
	err := bad.Validate()
	for _, want := range []string{"schedule: ", "give 1 to 3", `"Nowhere/Land"`, "retention: retention keeps nothing"} {
		checkErr(t, err, want)
	}
}

func TestShortens(t *testing.T) {
	a := exampleA().Retention
	tests := []struct {
		name     string
		old, new Retention
		want     bool
	}{
		{"same", a, a, false},
		{"longer daily", a, with(a, func(r *Retention) { r.Daily = &DailyTier{31} }), false},
		{"shorter daily", a, with(a, func(r *Retention) { r.Daily = &DailyTier{29} }), true},
		{"shorter yearly", a, with(a, func(r *Retention) { r.Yearly = &YearlyTier{Years: 98, Month: 1, Day: "1"} }), true},
		{"weekly removed", a, with(a, func(r *Retention) { r.Weekly = nil }), true},
		{"tier added", Retention{Daily: &DailyTier{30}}, a, false},
		{"day changed", a, with(a, func(r *Retention) { r.Monthly = &MonthlyTier{Months: 120, Day: "1"} }), false},
	}
	for _, tt := range tests {
		if got := tt.new.Shortens(tt.old); got != tt.want {
			t.Errorf("%s: Shortens = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// with returns a copy of r changed by f; tiers are replaced, never mutated.
func with(r Retention, f func(*Retention)) Retention {
	f(&r)
	return r
}

func TestNewPoint(t *testing.T) {
	tests := []struct {
		name     string
		p        Policy
		at       string
		earlier  []string
		tiers    []Tier
		expiry   string
		onDemand []string // earlier on-demand points, which never count as the day's first
	}{
		{"a plain day", exampleA(), "2026-05-06T02:30:00+02:00", nil, []Tier{TierDaily}, "2026-06-05T02:30:00+02:00", nil},
		{"a Sunday", exampleA(), "2026-05-10T02:30:00+02:00", nil, []Tier{TierDaily, TierWeekly}, "2028-05-07T02:30:00+02:00", nil},
		{"a last Sunday in the DST gap", exampleA(), "2026-03-29T03:00:00+02:00", nil, []Tier{TierDaily, TierWeekly, TierMonthly}, "2036-03-29T03:00:00+01:00", nil},
		{"a first Sunday of January", exampleA(), "2026-01-04T02:30:00+01:00", nil, []Tier{TierDaily, TierWeekly, TierYearly}, "2125-01-04T02:30:00+01:00", nil},
		{"second point of a Sunday", exampleA(), "2026-05-10T20:00:00+02:00", []string{"2026-05-10T02:30:00+02:00"}, []Tier{TierDaily}, "2026-06-09T20:00:00+02:00", nil},
		{"first after an on-demand", exampleA(), "2026-05-10T20:00:00+02:00", nil, []Tier{TierDaily, TierWeekly}, "2028-05-07T20:00:00+02:00", []string{"2026-05-10T02:30:00+02:00"}},
		{"yesterday does not count", exampleA(), "2026-05-10T00:10:00+02:00", []string{"2026-05-09T23:50:00+02:00"}, []Tier{TierDaily, TierWeekly}, "2028-05-07T00:10:00+02:00", nil},
		{"day is read in the zone", exampleA(), "2026-05-09T22:30:00Z", []string{"2026-05-09T20:00:00Z"}, []Tier{TierDaily, TierWeekly}, "2028-05-07T00:30:00+02:00", nil},
		{"later points ignored", exampleA(), "2026-05-10T02:30:00+02:00", []string{"2026-05-10T18:00:00+02:00"}, []Tier{TierDaily, TierWeekly}, "2028-05-07T02:30:00+02:00", nil},
		{"b 18:00 point is daily", exampleB(), "2026-03-28T18:00:00-04:00", []string{"2026-03-28T00:00:00-04:00"}, []Tier{TierDaily}, "2026-04-04T18:00:00-04:00", nil},
		{"b last Saturday of March", exampleB(), "2026-03-28T00:00:00-04:00", nil, []Tier{TierDaily, TierWeekly, TierMonthly, TierYearly}, "2036-03-28T00:00:00-04:00", nil},
		{"expiry in a DST gap moves to its end", exampleB(), "2026-03-01T02:30:00-05:00", nil, []Tier{TierDaily}, "2026-03-08T03:00:00-04:00", nil},
		{"second 01:30 on fall-back day", exampleB(), "2026-11-01T01:30:00-05:00", nil, []Tier{TierDaily}, "2026-11-08T01:30:00-05:00", nil},
		{"a day over fall back is 25 hours", Policy{Schedule: daily(berlin, "02:30"), Retention: Retention{Daily: &DailyTier{1}}}, "2026-10-25T02:30:00+02:00", nil, []Tier{TierDaily}, "2026-10-26T02:30:00+01:00", nil},
		{"month end clamps", Policy{Schedule: daily("", "12:00"), Retention: Retention{Monthly: &MonthlyTier{Months: 1, Day: "last"}}}, "2024-01-31T12:00:00Z", nil, []Tier{TierMonthly}, "2024-02-29T12:00:00Z", nil},
		{"leap day yearly clamps", Policy{Schedule: daily("", "12:00"), Retention: Retention{Yearly: &YearlyTier{Years: 1, Month: 2, Day: "last"}}}, "2024-02-29T12:00:00Z", nil, []Tier{TierYearly}, "2025-02-28T12:00:00Z", nil},
		{"no tier lives only while newest", Policy{Schedule: daily("", "12:00"), Retention: Retention{Weekly: &WeeklyTier{Weeks: 1}}}, "2026-05-06T12:00:00Z", nil, nil, "2026-05-06T12:00:00Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var existing []Point
			for _, e := range tt.earlier {
				existing = append(existing, Point{Time: mustTime(t, e)})
			}
			for _, e := range tt.onDemand {
				existing = append(existing, Point{Time: mustTime(t, e), OnDemand: true})
			}
			got, err := tt.p.NewPoint(mustTime(t, tt.at), existing)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got.Tiers, tt.tiers) || got.Expiry.Format(time.RFC3339) != tt.expiry {
				t.Errorf("NewPoint(%s) = %v until %s, want %v until %s", tt.at, got.Tiers, got.Expiry.Format(time.RFC3339), tt.tiers, tt.expiry)
			}
		})
	}
}

func TestNewPointBadZone(t *testing.T) {
	p := Default()
	p.Schedule.Zone = "Nowhere/Land"
	if _, err := p.NewPoint(time.Now(), nil); err == nil {
		t.Error("NewPoint accepted an unknown zone")
	}
	if _, err := p.Reexpire(nil); err == nil {
		t.Error("Reexpire accepted an unknown zone")
	}
}
