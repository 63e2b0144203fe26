package policy

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // zones resolve identically on every host, even one without /usr/share/zoneinfo
)

// zones caches loaded locations by name: time.LoadLocation reads tzdata on every call.
var zones sync.Map

// loadZone returns the location of an IANA zone name; "" means UTC.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("time zone %q depends on the host: name an IANA zone such as Europe/Berlin, America/New_York or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not an IANA zone name: use one such as Europe/Berlin, America/New_York or UTC: %w", name, err)
	}
	zones.Store(name, loc)
	return loc, nil
}

// offset returns loc's UTC offset at instant t.
func offset(t time.Time, loc *time.Location) time.Duration {
	_, secs := t.In(loc).Zone()
	return time.Duration(secs) * time.Second
}

// wall returns the reading of loc's clock at instant t, expressed as the same
// reading on a UTC clock. Calendar arithmetic on it is free of daylight saving.
func wall(t time.Time, loc *time.Location) time.Time {
	return t.Add(offset(t, loc)).UTC()
}

// resolve returns the instant that the local reading w (a wall value, see wall)
// names in loc: the first instant whose local reading is w or later. A reading
// that occurs twice (clocks fall back) gives its first occurrence; a reading
// that never occurs (clocks spring forward) gives the instant the clocks jump,
// the first valid instant after it. Zones whose offset changes twice within
// about two days are not handled exactly; tzdata has none in use.
func resolve(w time.Time, loc *time.Location) time.Time {
	var best time.Time
	for _, probe := range [2]time.Duration{-26 * time.Hour, 26 * time.Hour} {
		u := w.Add(-offset(w.Add(probe), loc))
		if wall(u, loc).Equal(w) && (best.IsZero() || u.Before(best)) {
			best = u
		}
	}
	if !best.IsZero() {
		return best
	}
	// In a gap: read w with the offset before the jump; that lands just after it.
	u := w.Add(-offset(w.Add(-26*time.Hour), loc))
	start, _ := u.In(loc).ZoneBounds()
	if start.IsZero() {
		return u
	}
	return start
}

// sameDay reports whether two wall values fall on the same calendar date.
func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// addMonths adds n calendar months to the wall value w, clamping the day to
// the end of a shorter month (31 January + 1 month = 28 or 29 February).
func addMonths(w time.Time, n int) time.Time {
	y, m, d := w.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	d = min(d, daysIn(first.Year(), first.Month()))
	return first.AddDate(0, 0, d-1).Add(w.Sub(w.Truncate(24 * time.Hour)))
}
