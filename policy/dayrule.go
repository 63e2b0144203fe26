package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DayRule picks one day of each month. It is stored in its canonical text:
//
//	"1" … "28"                 that day of the month
//	"last"                     the last day of the month
//	"first-sun" … "fourth-sat" the first, second, third or fourth given weekday
//	"last-sun" … "last-sat"    the last given weekday of the month
//
// Days 29–31 are refused because some months lack them; "last" covers that need.
type DayRule string

// dayRuleSyntax quotes the accepted spellings in errors.
const dayRuleSyntax = `a day 1-28, "last", or first|second|third|fourth|last-DAY such as "first-sun" or "last-sat"`

var ordinals = []string{"last", "first", "second", "third", "fourth"} // index = nth, 0 = last

// rule is a parsed DayRule: day > 0 is a day of the month, day < 0 the last day;
// day == 0 means the nth (0 = last) weekday.
type rule struct {
	day     int
	nth     int
	weekday time.Weekday
}

// ParseDayRule reads a day rule, accepting any case and full weekday names
// ("Last-Sunday"), and returns it in canonical form ("last-sun").
func ParseDayRule(s string) (DayRule, error) {
	r, err := parseRule(s)
	if err != nil {
		return "", err
	}
	return r.canonical(), nil
}

func parseRule(s string) (rule, error) {
	low := strings.ToLower(strings.TrimSpace(s))
	if low == "last" {
		return rule{day: -1}, nil
	}
	if n, err := strconv.Atoi(low); err == nil {
		if n < 1 || n > 28 {
			return rule{}, fmt.Errorf("day of month %d is out of range: use %s", n, dayRuleSyntax)
		}
		return rule{day: n}, nil
	}
	ord, day, ok := strings.Cut(low, "-")
	if ok {
		for nth, name := range ordinals {
			if ord != name {
				continue
			}
			if wd, err := ParseWeekday(day); err == nil {
				return rule{nth: nth, weekday: time.Weekday(wd)}, nil
			}
		}
	}
	return rule{}, fmt.Errorf("day rule %q is not recognised: use %s", s, dayRuleSyntax)
}

func (r rule) canonical() DayRule {
	switch {
	case r.day > 0:
		return DayRule(strconv.Itoa(r.day))
	case r.day < 0:
		return "last"
	}
	return DayRule(ordinals[r.nth] + "-" + shortDays[r.weekday])
}

// matches reports whether the calendar date of the wall value w is the rule's day.
func (r rule) matches(w time.Time) bool {
	y, m, d := w.Date()
	last := daysIn(y, m)
	switch {
	case r.day > 0:
		return d == r.day
	case r.day < 0:
		return d == last
	case w.Weekday() != r.weekday:
		return false
	case r.nth == 0:
		return d+7 > last
	}
	return (d-1)/7+1 == r.nth
}

// Validate reports whether the rule is one of the accepted forms.
func (dr DayRule) Validate() error {
	_, err := parseRule(string(dr))
	return err
}

// Matches reports whether the calendar date of t (as read in t's location) is the rule's day.
// An invalid rule matches nothing.
func (dr DayRule) Matches(t time.Time) bool {
	r, err := parseRule(string(dr))
	if err != nil {
		return false
	}
	y, m, d := t.Date()
	return r.matches(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// Describe returns the rule in words: "day 1", "the last day", "the first Sunday".
func (dr DayRule) Describe() string {
	r, err := parseRule(string(dr))
	switch {
	case err != nil:
		return fmt.Sprintf("invalid day rule %q", string(dr))
	case r.day > 0:
		return fmt.Sprintf("day %d", r.day)
	case r.day < 0:
		return "the last day"
	}
	return "the " + ordinals[r.nth] + " " + r.weekday.String()
}
