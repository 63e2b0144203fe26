package policy

import (
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func daily(zone string, times ...string) Schedule {
	return Schedule{Kind: Daily, Times: times, Zone: zone}
}

func weekly(zone string, days []Weekday, times ...string) Schedule {
	return Schedule{Kind: Weekly, Times: times, Weekdays: days, Zone: zone}
}

const (
	ny     = "America/New_York" // 2026: spring forward 8 Mar 02:00→03:00, fall back 1 Nov 02:00→01:00
	berlin = "Europe/Berlin"    // 2026: spring forward 29 Mar 02:00→03:00, fall back 25 Oct 03:00→02:00
)

func TestNext(t *testing.T) {
	sun, mon, thu := Weekday(time.Sunday), Weekday(time.Monday), Weekday(time.Thursday)
	tests := []struct {
		name  string
		s     Schedule
		after string
		want  string
	}{
		{"default zone is UTC", daily("", "22:30"), "2026-05-01T22:30:00Z", "2026-05-02T22:30:00Z"},
		{"later the same day", daily("UTC", "00:00", "18:00"), "2026-05-01T00:00:00Z", "2026-05-01T18:00:00Z"},
		{"strictly after", daily("UTC", "00:00", "18:00"), "2026-05-01T17:59:59Z", "2026-05-01T18:00:00Z"},
		{"after given in another zone", daily(berlin, "01:00"), "2026-05-01T22:30:00Z", "2026-05-02T01:00:00+02:00"},
		{"NY spring forward 02:30 runs at 03:00", daily(ny, "02:30"), "2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"NY day after spring forward", daily(ny, "02:30"), "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"},
		{"NY two gap times run once", daily(ny, "02:15", "02:45"), "2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"NY gap time and 03:00 run once", daily(ny, "02:30", "03:00"), "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"},
		{"NY fall back 01:30 first occurrence", daily(ny, "01:30"), "2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00"},
		{"NY fall back 01:30 not again", daily(ny, "01:30"), "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"},
		{"NY between both 01:30s", daily(ny, "01:30"), "2026-11-01T01:45:00-04:00", "2026-11-02T01:30:00-05:00"},
		{"NY fall back 02:30 once", daily(ny, "02:30"), "2026-11-01T01:30:00-05:00", "2026-11-01T02:30:00-05:00"},
		{"Berlin spring forward 02:30 runs at 03:00", daily(berlin, "02:30"), "2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00"},
		{"Berlin fall back 02:30 first occurrence", daily(berlin, "02:30"), "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00"},
		{"Berlin fall back 02:30 not again", daily(berlin, "02:30"), "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"},
		{"Apia skipped 30 Dec 2011 entirely", daily("Pacific/Apia", "22:30"), "2011-12-29T22:30:00-10:00", "2011-12-31T00:00:00+14:00"},
		{"Apia day after the skipped one", daily("Pacific/Apia", "22:30"), "2011-12-31T00:00:00+14:00", "2011-12-31T22:30:00+14:00"},
		{"weekly next chosen day", weekly("UTC", []Weekday{mon, thu}, "22:30"), "2026-05-04T22:30:00Z", "2026-05-07T22:30:00Z"},
		{"weekly wraps the week", weekly("UTC", []Weekday{mon, thu}, "22:30"), "2026-05-07T22:30:00Z", "2026-05-11T22:30:00Z"},
		{"weekly one day a week later", weekly("UTC", []Weekday{sun}, "10:00"), "2026-05-03T10:00:00Z", "2026-05-10T10:00:00Z"},
		{"weekly NY spring forward", weekly(ny, []Weekday{sun}, "02:30"), "2026-03-01T02:30:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"weekly Berlin fall back", weekly(berlin, []Weekday{sun}, "02:30", "04:00"), "2026-10-25T02:30:00+02:00", "2026-10-25T04:00:00+01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Next(mustTime(t, tt.after))
			if err != nil {
				t.Fatal(err)
			}
			if want := mustTime(t, tt.want); !got.Equal(want) || got.Format(time.RFC3339) != tt.want {
				t.Errorf("Next(%s) = %s, want %s", tt.after, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

// TestNextOncePerLocalDay runs two years of schedules in both zones and checks
// every local day has exactly one run per (possibly collapsed) time, increasing.
func TestNextOncePerLocalDay(t *testing.T) {
	for _, zone := range []string{ny, berlin, "Australia/Lord_Howe", "UTC"} {
		for _, at := range []string{"00:00", "01:30", "02:00", "02:30", "03:00", "23:59"} {
			s := daily(zone, at)
			loc, _ := loadZone(zone)
			perDay := map[string]int{}
			prev := time.Date(2025, 12, 31, 12, 0, 0, 0, loc)
			for range 731 {
				next, err := s.Next(prev)
				if err != nil {
					t.Fatal(err)
				}
				if !next.After(prev) {
					t.Fatalf("%s %s: Next(%s) = %s, not after", zone, at, prev, next)
				}
				perDay[next.In(loc).Format(time.DateOnly)]++
				prev = next
			}
			if len(perDay) != 731 {
				t.Errorf("%s %s: runs on %d local days, want 731", zone, at, len(perDay))
			}
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name string
		s    Schedule
		want string // substring of the error; "" means valid
	}{
		{"default", Default().Schedule, ""},
		{"three times", daily("", "00:00", "08:00", "16:00"), ""},
		{"no times", daily(""), "give 1 to 3"},
		{"four times", daily("", "00:00", "06:00", "12:00", "18:00"), "give 1 to 3"},
		{"bad time", daily("", "24:00"), `time "24:00" is not valid: use HH:MM on a 24-hour clock`},
		{"bad minutes", daily("", "12:5"), `time "12:5" is not valid`},
		{"duplicate time", daily("", "12:00", "12:00"), "listed twice"},
		{"bad zone", daily("Mars/Olympus", "12:00"), `time zone "Mars/Olympus" is not an IANA zone name`},
		{"local zone", daily("Local", "12:00"), "depends on the host"},
		{"daily with days", Schedule{Kind: Daily, Times: []string{"12:00"}, Weekdays: []Weekday{1}}, "drop the weekdays"},
		{"weekly without days", weekly("", nil, "12:00"), "needs at least one weekday"},
		{"weekly duplicate day", weekly("", []Weekday{1, 1}, "12:00"), "Monday is listed twice"},
		{"weekly bad day", weekly("", []Weekday{7}, "12:00"), "weekday 7 is out of range"},
		{"unknown kind", Schedule{Kind: "hourly", Times: []string{"12:00"}}, `schedule kind "hourly" is not known`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.s.Validate(), tt.want)
			if _, err := tt.s.Next(time.Now()); (err == nil) != (tt.want == "") {
				t.Errorf("Next error %v disagrees with Validate", err)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q does not contain %q", err, want)
	}
}
