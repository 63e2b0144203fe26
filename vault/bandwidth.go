package vault

import (
	"fmt"
	"time"
)

// Rate limits in bytes per second; 0 means unlimited.
const (
	MinRate = 64000              // 512 Kbit/s
	MaxRate = 1023 * 1000 * 1000 // 1023 MB/s
)

// Bandwidth throttles backup traffic: WorkRate inside the work-hours window
// (WorkDays, WorkStart–WorkEnd as "HH:MM" in Zone), OffRate outside it. Rates
// are bytes per second, 0 = unlimited. The zero value is unlimited always.
// WorkDays are stored as numbers, 0 = Sunday … 6 = Saturday.
type Bandwidth struct {
	WorkRate  int64          `json:"work_rate"`
	OffRate   int64          `json:"off_rate"`
	WorkDays  []time.Weekday `json:"work_days,omitempty"`
	WorkStart string         `json:"work_start,omitempty"`
	WorkEnd   string         `json:"work_end,omitempty"`
	Zone      string         `json:"zone,omitempty"`
}

// Validate checks the rates and the window; the message quotes the range.
func (b Bandwidth) Validate() error {
	if err := checkRate("work-hours", b.WorkRate); err != nil {
		return err
	}
	if err := checkRate("off-hours", b.OffRate); err != nil {
		return err
	}
	return b.validateWindow()
}

func checkRate(what string, r int64) error {
	if r == 0 || r >= MinRate && r <= MaxRate {
		return nil
	}
	return invalid("%s rate %d bytes/s is out of range: use 0 (unlimited) or 64000 bytes/s (512 Kbit/s) to 1023000000 bytes/s (1023 MB/s)", what, r)
}

func (b Bandwidth) validateWindow() error {
	for _, d := range b.WorkDays {
		if d < time.Sunday || d > time.Saturday {
			return invalid("work day %d is not a weekday: use 0 (Sunday) to 6 (Saturday)", d)
		}
	}
	start, err := parseClock("work-hours start", b.WorkStart)
	if err != nil {
		return err
	}
	end, err := parseClock("work-hours end", b.WorkEnd)
	if err != nil {
		return err
	}
	if b.WorkStart != "" && b.WorkEnd != "" && end <= start {
		return invalid("work hours %s–%s end before they start: give an end later than the start", b.WorkStart, b.WorkEnd)
	}
	if _, err := time.LoadLocation(b.Zone); err != nil {
		return invalid("time zone %q is unknown: use an IANA name such as Europe/Berlin", b.Zone)
	}
	return nil
}

// parseClock turns "HH:MM" into minutes after midnight; "" is 0.
func parseClock(what, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	var h, m int
	if n, err := fmt.Sscanf(s, "%2d:%2d", &h, &m); n != 2 || err != nil || len(s) != 5 || h > 23 || m > 59 || h < 0 || m < 0 {
		return 0, invalid("%s %q is not a time of day: use HH:MM (00:00–23:59)", what, s)
	}
	return h*60 + m, nil
}

// RateAt returns the rate in force at t (bytes per second, 0 = unlimited).
func (b Bandwidth) RateAt(t time.Time) int64 {
	if b.inWork(t) {
		return b.WorkRate
	}
	return b.OffRate
}

func (b Bandwidth) inWork(t time.Time) bool {
	loc, err := time.LoadLocation(b.Zone)
	if err != nil || b.WorkStart == "" || b.WorkEnd == "" {
		return false
	}
	t = t.In(loc)
	if !b.workDay(t.Weekday()) {
		return false
	}
	start, _ := parseClock("", b.WorkStart)
	end, _ := parseClock("", b.WorkEnd)
	min := t.Hour()*60 + t.Minute()
	return min >= start && min < end
}

func (b Bandwidth) workDay(d time.Weekday) bool {
	for _, w := range b.WorkDays {
		if w == d {
			return true
		}
	}
	return false
}
