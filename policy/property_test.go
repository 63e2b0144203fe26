package policy

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var propertyZones = []string{"UTC", ny, berlin, "Australia/Lord_Howe", "Asia/Kolkata"}

// randomPolicy returns a valid policy with small counts, so tiers expire within a simulation.
func randomPolicy(r *rand.Rand) Policy {
	s := Schedule{Kind: Daily, Zone: propertyZones[r.IntN(len(propertyZones))]}
	for _, c := range r.Perm(24 * 4)[:1+r.IntN(MaxTimes)] {
		s.Times = append(s.Times, formatClock(time.Duration(c)*15*time.Minute))
	}
	if r.IntN(2) == 0 {
		s.Kind = Weekly
		for _, d := range r.Perm(7)[:1+r.IntN(7)] {
			s.Weekdays = append(s.Weekdays, Weekday(d))
		}
	}
	var ret Retention
	for ret.Validate() != nil {
		ret = randomRetention(r)
	}
	return Policy{Schedule: s, Retention: ret}
}

func randomRetention(r *rand.Rand) Retention {
	rules := []DayRule{"1", "15", "28", "last", "first-sun", "second-wed", "fourth-fri", "last-sat"}
	var ret Retention
	if r.IntN(3) > 0 {
		ret.Daily = &DailyTier{Days: 1 + r.IntN(40)}
	}
	if r.IntN(2) > 0 {
		ret.Weekly = &WeeklyTier{Weeks: 1 + r.IntN(10), Day: Weekday(r.IntN(7))}
	}
	if r.IntN(2) > 0 {
		ret.Monthly = &MonthlyTier{Months: 1 + r.IntN(8), Day: rules[r.IntN(len(rules))]}
	}
	if r.IntN(2) > 0 {
		ret.Yearly = &YearlyTier{Years: 1 + r.IntN(2), Month: time.Month(1 + r.IntN(12)), Day: rules[r.IntN(len(rules))]}
	}
	return ret
}

// grown returns variants of ret with one tier's count raised, or an absent tier turned on.
func grown(ret Retention, r *rand.Rand) []Retention {
	more := 1 + r.IntN(30)
	out := []Retention{
		with(ret, func(x *Retention) { x.Daily = &DailyTier{Days: more} }),
		with(ret, func(x *Retention) { x.Weekly = &WeeklyTier{Weeks: more, Day: Weekday(r.IntN(7))} }),
		with(ret, func(x *Retention) { x.Monthly = &MonthlyTier{Months: more, Day: "last-sun"} }),
		with(ret, func(x *Retention) { x.Yearly = &YearlyTier{Years: more, Month: time.Month(1 + r.IntN(12)), Day: "1"} }),
	}
	if ret.Daily != nil {
		out[0] = with(ret, func(x *Retention) { x.Daily = &DailyTier{Days: ret.Daily.Days + more} })
	}
	if ret.Weekly != nil {
		out[1] = with(ret, func(x *Retention) { x.Weekly = &WeeklyTier{Weeks: ret.Weekly.Weeks + more, Day: ret.Weekly.Day} })
	}
	if ret.Monthly != nil {
		out[2] = with(ret, func(x *Retention) { x.Monthly = &MonthlyTier{Months: ret.Monthly.Months + more, Day: ret.Monthly.Day} })
	}
	if ret.Yearly != nil {
		out[3] = with(ret, func(x *Retention) {
			x.Yearly = &YearlyTier{Years: ret.Yearly.Years + more, Month: ret.Yearly.Month, Day: ret.Yearly.Day}
		})
	}
	return out
}

// randomRuns returns two and a half years of the schedule's runs with about a
// tenth missed (failed backups), and a checkpoint about every nine days.
func randomRuns(t *testing.T, r *rand.Rand, s Schedule) (at, checkpoints []time.Time) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(365*24)) * time.Hour)
	end := start.AddDate(2, 6, 0)
	for _, run := range runs(t, s, start, end) {
		if r.IntN(10) > 0 {
			at = append(at, run)
		}
	}
	for cp := start.Add(time.Hour); cp.Before(end); cp = cp.Add(time.Duration(200+r.IntN(40)) * time.Hour) {
		checkpoints = append(checkpoints, cp)
	}
	return at, checkpoints
}

// TestPropertyGrowingNeverShrinks: raising any tier's count (or turning a
// tier on) never removes a point from what is held at any instant, and the
// newest point is always held.
func TestPropertyGrowingNeverShrinks(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 1))
	for trial := range 24 {
		p := randomPolicy(r)
		at, cps := randomRuns(t, r, p.Schedule)
		base := simulate(t, p, at, cps)
		checkHeld(t, p, at, cps, base)
		for _, ret := range grown(p.Retention, r) {
			q := Policy{Schedule: p.Schedule, Retention: ret}
			if ret.Shortens(p.Retention) {
				t.Fatalf("trial %d: growing %s to %s counts as shortening", trial, p.Retention, ret)
			}
			more := simulate(t, q, at, cps)
			for i := range cps {
				if missing := subtract(base[i], more[i]); len(missing) > 0 {
					t.Fatalf("trial %d: %s\ngrown to %s\nat %s drops %v", trial, p, ret, cps[i], missing)
				}
			}
		}
	}
}

// checkHeld checks that at every checkpoint the held points are exactly the
// runs so far that are the newest or whose expiry is after the checkpoint.
func checkHeld(t *testing.T, p Policy, at, cps []time.Time, held [][]Point) {
	t.Helper()
	it := &item{p: p}
	expiry := make([]time.Time, len(at))
	for i, run := range at {
		it.backup(t, run)
		expiry[i] = it.points[len(it.points)-1].Expiry
	}
	for i, cp := range cps {
		var want []string
		for j, run := range at {
			if run.After(cp) {
				break
			}
			if newest := j+1 == len(at) || at[j+1].After(cp); newest || expiry[j].After(cp) {
				want = append(want, run.Format(time.RFC3339))
			}
		}
		if got := times(held[i]); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s\nat %s holds %v\nwant %v", p, cp, got, want)
		}
	}
}

func times(points []Point) []string {
	var out []string
	for _, pt := range points {
		out = append(out, pt.Time.Format(time.RFC3339))
	}
	return out
}

// subtract returns the times in a that are not in b.
func subtract(a, b []Point) []string {
	in := map[int64]bool{}
	for _, pt := range b {
		in[pt.Time.UnixNano()] = true
	}
	var out []string
	for _, pt := range a {
		if !in[pt.Time.UnixNano()] {
			out = append(out, pt.Time.Format(time.RFC3339))
		}
	}
	return out
}
