package policy

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The CLI hands user text to these parsers: they must never panic, and what
// they accept must come back unchanged when parsed again.

func FuzzParseDayRule(f *testing.F) {
	for _, s := range []string{"1", "28", "last", "First-Sunday", "last-sat", "fifth-mon", "-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseDayRule(s)
		if err != nil {
			return
		}
		if again, err := ParseDayRule(string(r)); err != nil || again != r {
			t.Errorf("ParseDayRule(%q) = %q, which reparses as %q, %v", s, r, again, err)
		}
	})
}

func FuzzParseWeekly(f *testing.F) {
	for _, s := range []string{"mon,thu@22:30", "Sunday@02:30,4:00", "@", "mon@", "x@1:00", "mon@24:00,1:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sched, err := ParseWeekly(s)
		if err != nil {
			return
		}
		if err := sched.Validate(); err != nil {
			t.Errorf("ParseWeekly(%q) = %+v, which does not validate: %v", s, sched, err)
		}
	})
}

func FuzzParseKeepYearly(f *testing.F) {
	for _, s := range []string{"99", "99:jan:first-sun", "10:3:last-sat", "1:13", "0", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tier, err := ParseKeepYearly(s)
		if err != nil {
			return
		}
		if err := (Retention{Yearly: tier}).Validate(); err != nil {
			t.Errorf("ParseKeepYearly(%q) = %+v, which does not validate: %v", s, tier, err)
		}
	})
}

// TestNextProperties: for random schedules and instants, Next is strictly
// later, lands on a run time (or the end of a DST gap), and nothing runs in between.
func TestNextProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 400 {
		s := randomPolicy(r).Schedule
		loc, _ := loadZone(s.Zone)
		after := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(3 * 365 * 24 * time.Hour))))
		next, err := s.Next(after)
		if err != nil {
			t.Fatal(err)
		}
		if !next.After(after) {
			t.Fatalf("%s: Next(%s) = %s", s, after, next)
		}
		start, _ := next.ZoneBounds()
		clock := next.In(loc).Format("15:04")
		if !next.Equal(start) && !contains(s.Times, clock) || !s.runsOn(next.In(loc).Weekday()) {
			t.Errorf("%s: Next(%s) = %s, not a run time", s, after, next)
		}
		if again, _ := s.Next(after.Add(next.Sub(after) / 2)); !again.Equal(next) {
			t.Errorf("%s: Next(%s) = %s but Next of an instant in between = %s", s, after, next, again)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
