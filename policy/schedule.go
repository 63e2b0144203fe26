package policy

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says how often a schedule runs.
type Kind string

const (
	Daily  Kind = "daily"  // every day at Times
	Weekly Kind = "weekly" // on Weekdays at Times
)

// MaxTimes is the most run times a schedule may have per day.
const MaxTimes = 3

// Schedule says when backups run. Times are local "HH:MM" readings in Zone.
type Schedule struct {
	Kind     Kind      `json:"kind"`
	Times    []string  `json:"times"`              // 1–3 distinct "HH:MM", 00:00–23:59
	Weekdays []Weekday `json:"weekdays,omitempty"` // weekly only: 1–7 distinct days
	Zone     string    `json:"zone,omitempty"`     // IANA name; "" means UTC
}

// timeSyntax quotes the accepted time spelling in errors.
const timeSyntax = "HH:MM on a 24-hour clock, 00:00 to 23:59"

// parseClock reads "HH:MM" (or "H:MM") as a duration after midnight.
func parseClock(s string) (time.Duration, error) {
	hs, ms, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, herr := strconv.Atoi(hs)
	m, merr := strconv.Atoi(ms)
	if !ok || herr != nil || merr != nil || len(hs) > 2 || len(ms) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, fmt.Errorf("time %q is not valid: use %s", s, timeSyntax)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// formatClock writes a duration after midnight as "HH:MM".
func formatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// Validate checks the kind, the times, the weekdays and the zone.
func (s Schedule) Validate() error {
	var errs []error
	switch s.Kind {
	case Daily:
		if len(s.Weekdays) > 0 {
			errs = append(errs, errors.New("a daily schedule runs every day: drop the weekdays or use a weekly schedule (--weekly DAY[,DAY…]@HH:MM)"))
		}
	case Weekly:
		errs = append(errs, validateWeekdays(s.Weekdays))
	default:
		errs = append(errs, fmt.Errorf("schedule kind %q is not known: use %q or %q", s.Kind, Daily, Weekly))
	}
	_, err := s.clocks()
	_, zerr := loadZone(s.Zone)
	return errors.Join(append(errs, err, zerr)...)
}

func validateWeekdays(days []Weekday) error {
	if len(days) == 0 {
		return errors.New("a weekly schedule needs at least one weekday: use --weekly DAY[,DAY…]@HH:MM[,HH:MM…], e.g. Mon,Thu@22:30")
	}
	seen := map[Weekday]bool{}
	for _, d := range days {
		if !d.valid() {
			return fmt.Errorf("weekday %d is out of range 0 (Sunday) to 6 (Saturday)", int(d))
		}
		if seen[d] {
			return fmt.Errorf("weekday %s is listed twice: list each day once", d)
		}
		seen[d] = true
	}
	return nil
}

// clocks returns the run times as sorted durations after midnight.
func (s Schedule) clocks() ([]time.Duration, error) {
	if len(s.Times) < 1 || len(s.Times) > MaxTimes {
		return nil, fmt.Errorf("a schedule has %d run times: give 1 to %d, each %s", len(s.Times), MaxTimes, timeSyntax)
	}
	var out []time.Duration
	for _, t := range s.Times {
		c, err := parseClock(t)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, c) {
			return nil, fmt.Errorf("time %s is listed twice: list each run time once", formatClock(c))
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}

// runsOn reports whether the schedule runs on weekday d.
func (s Schedule) runsOn(d time.Weekday) bool {
	return s.Kind == Daily || slices.Contains(s.Weekdays, Weekday(d))
}

// Next returns the first scheduled run strictly after the instant after, in the
// schedule's zone. A run time that does not exist on a spring-forward day runs
// once, at the first valid instant after it (02:30 → 03:00); a run time that
// occurs twice on a fall-back day runs once, at its first occurrence. Two run
// times that land on the same instant that way run once.
func (s Schedule) Next(after time.Time) (time.Time, error) {
	if err := s.Validate(); err != nil {
		return time.Time{}, err
	}
	loc, _ := loadZone(s.Zone)
	clocks, _ := s.clocks()
	y, m, d := wall(after, loc).Date()
	for i := 0; i <= 8; i++ {
		date := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC)
		if !s.runsOn(date.Weekday()) {
			continue
		}
		for _, c := range clocks {
			if u := resolve(date.Add(c), loc); u.After(after) {
				return u.In(loc), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("schedule %s has no run within 8 days after %s", s, after.Format(time.RFC3339))
}
