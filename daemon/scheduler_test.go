package daemon

import (
	"testing"
	"time"

	"github.com/rewind-backup/rewind/policy"
)

// dueRun with a fake clock: a missed slot runs once however long the
// downtime, and the next run is the first slot after now.
func TestDueRun(t *testing.T) {
	s := policy.Schedule{Kind: policy.Daily, Times: []string{"22:30"}, Zone: "Europe/Berlin"}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, berlin) }
	cases := []struct {
		name   string
		anchor time.Time
		now    time.Time
		run    bool
		next   time.Time
	}{
		{"before the slot", at(2026, 3, 1, 23, 0), at(2026, 3, 2, 12, 0), false, at(2026, 3, 2, 22, 30)},
		{"at the slot", at(2026, 3, 1, 23, 0), at(2026, 3, 2, 22, 30), true, at(2026, 3, 3, 22, 30)},
		{"ten days down runs once", at(2026, 3, 1, 23, 0), at(2026, 3, 11, 9, 0), true, at(2026, 3, 11, 22, 30)},
		{"across spring forward", at(2026, 3, 28, 23, 0), at(2026, 3, 29, 22, 31), true, at(2026, 3, 30, 22, 30)},
	}
	for _, c := range cases {
		run, next, err := dueRun(s, c.anchor, c.now)
		if err != nil || run != c.run || !next.Equal(c.next) {
			t.Errorf("%s: run %v next %v (%v), want %v %v", c.name, run, next, err, c.run, c.next)
		}
	}
	// Simulate a year of a daemon that checks every 7 minutes: one run per day.
	anchor := at(2026, 1, 1, 0, 0)
	runs := 0
	for now := anchor; now.Before(at(2027, 1, 1, 0, 0)); now = now.Add(7 * time.Minute) {
		run, _, _ := dueRun(s, anchor, now)
		if run {
			runs++
			anchor = now
		}
	}
	if runs != 365 {
		t.Errorf("a year of ticks gave %d runs, want 365", runs)
	}
}

func TestParseRate(t *testing.T) {
	cases := map[string]int64{"5MB/s": 5_000_000, "800Kbit/s": 100_000, "1GiB/s": 1 << 30, "unlimited": 0, "1.5 mb/s": 1_500_000}
	for in, want := range cases {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"fast", "5", "5 parsecs/s", "MB/s"} {
		if _, err := parseRate(bad); err == nil {
			t.Errorf("parseRate(%q) should fail", bad)
		}
	}
}

func TestThrottleFollowsRateChanges(t *testing.T) {
	now := time.Unix(0, 0)
	rate := int64(0)
	th := newThrottle(func(time.Time) int64 { return rate }, func() time.Time { return now })
	if th.limiter() != nil {
		t.Fatal("rate 0 is unlimited")
	}
	rate = 1_000_000
	now = now.Add(2 * time.Second)
	if l := th.limiter(); l == nil || l.Limit() != 1_000_000 {
		t.Fatalf("limiter after a change: %v", l)
	}
	rate = 2_000_000
	now = now.Add(500 * time.Millisecond)
	if l := th.limiter(); l.Limit() != 1_000_000 {
		t.Fatal("the rate is looked up at most once a second")
	}
	now = now.Add(600 * time.Millisecond)
	if l := th.limiter(); l.Limit() != 2_000_000 {
		t.Fatal("a changed rate applies within a second")
	}
}
