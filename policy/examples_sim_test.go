package policy

import (
	"testing"
	"time"
)

// exampleCase is one admin example run for years on a fake clock.
type exampleCase struct {
	name        string
	p           Policy
	start, end  string   // runs come from Schedule.Next after start, up to end
	checkpoints []string // instants at which the held points are reported
	total       int      // points held at the last checkpoint, counted by hand
	counts      map[Tier]int
	present     map[string]string // point time → stored tiers, held at the last checkpoint
	absent      []string          // point times not held at the last checkpoint
}

func TestExamples(t *testing.T) {
	cases := []exampleCase{{
		name: "a", p: exampleA(),
		start: "2026-01-01T00:00:00+01:00", end: "2038-01-01T12:00:00+01:00",
		checkpoints: []string{"2026-04-15T12:00:00+02:00", "2030-01-01T12:00:00+01:00", "2038-01-01T12:00:00+01:00"},
		// Daily 3–31 Dec + 1 Jan; Sundays in the 728 days before; last Sundays Jan 2028–Dec 2037;
		// first Sundays of January 2026–2037. Overlaps: 4 Sundays in December are daily, 27 Dec is
		// also monthly, 24 last Sundays and 2 first Sundays of 2036–2037 are weekly: 266-31+1 = 236.
		total:  236,
		counts: map[Tier]int{TierDaily: 30, TierWeekly: 104, TierMonthly: 120, TierYearly: 12},
		present: map[string]string{
			"2026-01-04T02:30:00+01:00": "daily,weekly,yearly",  // first Sunday of January 2026
			"2028-01-30T02:30:00+01:00": "daily,weekly,monthly", // oldest monthly still held
			"2037-03-29T03:00:00+02:00": "daily,weekly,monthly", // last Sunday of March: 02:30 is in the DST gap
			"2036-01-06T02:30:00+01:00": "daily,weekly,yearly",  // oldest weekly still held
			"2037-12-03T02:30:00+01:00": "daily",                // oldest daily still held
			"2038-01-01T02:30:00+01:00": "daily",                // newest
		},
		absent: []string{"2027-12-26T02:30:00+01:00", "2037-12-02T02:30:00+01:00", "2035-12-23T02:30:00+01:00"},
	}, {
		name: "b", p: exampleB(),
		start: "2026-01-01T00:00:00-05:00", end: "2037-06-15T12:00:00-04:00",
		checkpoints: []string{"2026-03-10T12:00:00-04:00", "2026-11-03T12:00:00-05:00", "2037-06-15T12:00:00-04:00"},
		// Daily 8 Jun 18:00 … 15 Jun 00:00 (14); Saturdays 23 May–13 Jun (4); last Saturdays
		// Jun 2036–May 2037 (12); last Saturdays of March 2028–2037 (10). Overlaps: 13 Jun is
		// daily and weekly, 30 May weekly and monthly, March 2037 monthly and yearly: 40-3 = 37.
		total:  37,
		counts: map[Tier]int{TierDaily: 14, TierWeekly: 4, TierMonthly: 12, TierYearly: 10},
		present: map[string]string{
			"2037-06-08T18:00:00-04:00": "daily",
			"2037-06-13T00:00:00-04:00": "daily,weekly",
			"2037-06-13T18:00:00-04:00": "daily",
			"2037-05-30T00:00:00-04:00": "daily,weekly,monthly",
			"2036-06-28T00:00:00-04:00": "daily,weekly,monthly",
			"2028-03-25T00:00:00-04:00": "daily,weekly,monthly,yearly",
			"2037-03-28T00:00:00-04:00": "daily,weekly,monthly,yearly",
		},
		absent: []string{"2037-06-08T00:00:00-04:00", "2037-05-16T00:00:00-04:00", "2036-05-31T00:00:00-04:00", "2027-03-27T00:00:00-04:00", "2037-05-30T18:00:00-04:00"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

func (c exampleCase) run(t *testing.T) {
	var cps []time.Time
	for _, s := range c.checkpoints {
		cps = append(cps, mustTime(t, s))
	}
	held := simulate(t, c.p, runs(t, c.p.Schedule, mustTime(t, c.start), mustTime(t, c.end)), cps)
	golden(t, "example-"+c.name, report(c.p, cps, held))
	last, now := held[len(held)-1], cps[len(cps)-1]
	if len(last) != c.total {
		t.Errorf("%d points held at %s, want %d", len(last), c.checkpoints[len(cps)-1], c.total)
	}
	for tier, want := range c.counts {
		if got := activeCounts(c.p, last, now)[tier]; got != want {
			t.Errorf("tier %s holds %d points, want %d", tier, got, want)
		}
	}
	for at, tiers := range c.present {
		if pt, ok := find(t, last, at); !ok || joinTiers(pt.Tiers) != tiers {
			t.Errorf("point %s: held %v with tiers %q, want held with %q", at, ok, joinTiers(pt.Tiers), tiers)
		}
	}
	for _, at := range c.absent {
		if _, ok := find(t, last, at); ok {
			t.Errorf("point %s is still held", at)
		}
	}
}

// TestEveryFiveDays backs up every 5 days for years with a 10-day daily tier:
// exactly the last two points are held, and when backups stop the newest stays.
func TestEveryFiveDays(t *testing.T) {
	p := exampleC()
	first := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var at, cps []time.Time
	for i := range 5 * 73 {
		at = append(at, first.AddDate(0, 0, 5*i))
	}
	for _, days := range []int{0, 1, 4, 5, 333, 1822} {
		cps = append(cps, first.AddDate(0, 0, days).Add(time.Hour))
	}
	stopped := at[len(at)-1]
	cps = append(cps, stopped.AddDate(0, 0, 10), stopped.AddDate(1, 0, 0))
	held := simulate(t, p, at, cps)
	golden(t, "example-c", report(p, cps, held))
	for i, cp := range cps[:6] {
		var want []time.Time
		for _, run := range at {
			if !run.After(cp) && run.After(cp.AddDate(0, 0, -10)) {
				want = append(want, run)
			}
		}
		if len(held[i]) != len(want) || len(want) > 2 || (i >= 3 && len(want) != 2) {
			t.Fatalf("at %s: %d points held, want %v", cp, len(held[i]), want)
		}
		for j := range want {
			if !held[i][j].Time.Equal(want[j]) {
				t.Errorf("at %s: point %d is %s, want %s", cp, j, held[i][j].Time, want[j])
			}
		}
	}
	for _, h := range held[6:] {
		if len(h) != 1 || !h[0].Time.Equal(stopped) {
			t.Errorf("after backups stopped: held %v, want only the newest %s", h, stopped)
		}
	}
}
