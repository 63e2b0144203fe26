package policy

import (
	"testing"
	"time"
)

func TestParseDayRule(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"1", "1", ""},
		{" 28 ", "28", ""},
		{"LAST", "last", ""},
		{"first-sun", "first-sun", ""},
		{"Second-Monday", "second-mon", ""},
		{"third-WED", "third-wed", ""},
		{"fourth-fri", "fourth-fri", ""},
		{"last-Saturday", "last-sat", ""},
		{"0", "", "day of month 0 is out of range"},
		{"29", "", "day of month 29 is out of range: use a day 1-28"},
		{"fifth-sun", "", `day rule "fifth-sun" is not recognised`},
		{"first-funday", "", `day rule "first-funday" is not recognised`},
		{"", "", `day rule "" is not recognised`},
	}
	for _, tt := range tests {
		got, err := ParseDayRule(tt.in)
		checkErr(t, err, tt.err)
		if string(got) != tt.want {
			t.Errorf("ParseDayRule(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDayRuleMatches(t *testing.T) {
	tests := []struct {
		rule DayRule
		hits []string // every matching date in 2024-01-01 … 2024-03-31 (2024 is a leap year)
	}{
		{"1", []string{"2024-01-01", "2024-02-01", "2024-03-01"}},
		{"28", []string{"2024-01-28", "2024-02-28", "2024-03-28"}},
		{"last", []string{"2024-01-31", "2024-02-29", "2024-03-31"}},
		{"first-sun", []string{"2024-01-07", "2024-02-04", "2024-03-03"}},
		{"second-mon", []string{"2024-01-08", "2024-02-12", "2024-03-11"}},
		{"fourth-thu", []string{"2024-01-25", "2024-02-22", "2024-03-28"}},
		{"last-sun", []string{"2024-01-28", "2024-02-25", "2024-03-31"}},
		{"last-sat", []string{"2024-01-27", "2024-02-24", "2024-03-30"}},
		{"bogus", nil},
	}
	for _, tt := range tests {
		var got []string
		for d := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC); d.Month() <= time.March; d = d.AddDate(0, 0, 1) {
			if tt.rule.Matches(d) {
				got = append(got, d.Format(time.DateOnly))
			}
		}
		if !equal(got, tt.hits) {
			t.Errorf("%s matches %v, want %v", tt.rule, got, tt.hits)
		}
	}
}

func TestDayRuleDescribe(t *testing.T) {
	for rule, want := range map[DayRule]string{"7": "day 7", "last": "the last day", "first-sun": "the first Sunday", "last-sat": "the last Saturday", "x": `invalid day rule "x"`} {
		if got := rule.Describe(); got != want {
			t.Errorf("%q.Describe() = %q, want %q", rule, got, want)
		}
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
