package policy

import (
	"fmt"
	"strings"
	"time"
)

// Weekday is a day of the week (0 = Sunday, as time.Weekday). It is stored in
// JSON as its short lower-case name: "sun", "mon", … "sat".
type Weekday time.Weekday

var shortDays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekdaySyntax quotes the accepted spellings in errors.
const weekdaySyntax = "Mon, Tue, Wed, Thu, Fri, Sat, Sun or full names, any case"

// ParseWeekday reads a weekday by its three-letter or full English name, in any case.
func ParseWeekday(s string) (Weekday, error) {
	low := strings.ToLower(strings.TrimSpace(s))
	for i, short := range shortDays {
		if low == short || low == strings.ToLower(time.Weekday(i).String()) {
			return Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("weekday %q is not recognised: use %s", s, weekdaySyntax)
}

// String returns the full English name, e.g. "Sunday".
func (d Weekday) String() string { return time.Weekday(d).String() }

// Short returns the three-letter name, e.g. "Sun".
func (d Weekday) Short() string { return d.String()[:3] }

func (d Weekday) valid() bool { return d >= 0 && d <= 6 }

// MarshalText stores the weekday as "sun" … "sat".
func (d Weekday) MarshalText() ([]byte, error) {
	if !d.valid() {
		return nil, fmt.Errorf("weekday %d is out of range 0 (Sunday) to 6 (Saturday)", int(d))
	}
	return []byte(shortDays[d]), nil
}

// UnmarshalText accepts any spelling ParseWeekday accepts.
func (d *Weekday) UnmarshalText(b []byte) error {
	v, err := ParseWeekday(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
