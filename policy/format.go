package policy

import (
	"fmt"
	"strings"
)

// String summarises the policy for "policy show", one line each for schedule and retention.
func (p Policy) String() string {
	return "schedule:  " + p.Schedule.String() + "\nretention: " + p.Retention.String()
}

// String summarises the schedule, e.g. "weekly on Mon, Thu at 22:30 (Europe/Berlin)".
func (s Schedule) String() string {
	zone := s.Zone
	if zone == "" {
		zone = "UTC"
	}
	at := strings.Join(s.Times, ", ")
	if at == "" {
		return "never (no run times)"
	}
	if s.Kind != Weekly {
		return fmt.Sprintf("%s at %s (%s)", s.Kind, at, zone)
	}
	days := make([]string, len(s.Weekdays))
	for i, d := range s.Weekdays {
		days[i] = d.Short()
	}
	return fmt.Sprintf("weekly on %s at %s (%s)", strings.Join(days, ", "), at, zone)
}

// String summarises the retention, e.g. "daily 30 days; weekly (Sunday) 104 weeks".
func (r Retention) String() string {
	var parts []string
	if r.Daily != nil {
		parts = append(parts, fmt.Sprintf("daily %s", plural(r.Daily.Days, "day")))
	}
	if r.Weekly != nil {
		parts = append(parts, fmt.Sprintf("weekly (%s) %s", r.Weekly.Day, plural(r.Weekly.Weeks, "week")))
	}
	if r.Monthly != nil {
		parts = append(parts, fmt.Sprintf("monthly (%s) %s", r.Monthly.Day.Describe(), plural(r.Monthly.Months, "month")))
	}
	if r.Yearly != nil {
		parts = append(parts, fmt.Sprintf("yearly (%s of %s) %s", r.Yearly.Day.Describe(), r.Yearly.Month, plural(r.Yearly.Years, "year")))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
