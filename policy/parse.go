package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Syntax of the CLI flags, quoted in errors.
const (
	dailySyntax       = "--daily HH:MM[,HH:MM…] with 1 to 3 times, e.g. --daily 00:00,18:00"
	weeklySyntax      = "--weekly DAY[,DAY…]@HH:MM[,HH:MM…] with 1 to 3 times, e.g. --weekly Mon,Thu@22:30"
	keepWeeklySyntax  = "--keep-weekly N[:DAY], e.g. 104:sun (DAY defaults to Sunday)"
	keepMonthlySyntax = "--keep-monthly N[:RULE], e.g. 120:last-sun (RULE defaults to day 1)"
	keepYearlySyntax  = "--keep-yearly N[:MONTH[:RULE]], e.g. 99:jan:first-sun (MONTH defaults to January, RULE to day 1)"
	monthSyntax       = "jan … dec, full month names, or 1 to 12"
)

// ParseDaily reads the value of --daily, "HH:MM[,HH:MM…]", into a daily schedule in UTC.
func ParseDaily(spec string) (Schedule, error) {
	times, err := parseTimes(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("%w (syntax: %s)", err, dailySyntax)
	}
	return Schedule{Kind: Daily, Times: times}, nil
}

// ParseWeekly reads the value of --weekly, "DAY[,DAY…]@HH:MM[,HH:MM…]", into a weekly schedule in UTC.
func ParseWeekly(spec string) (Schedule, error) {
	dayList, timeList, ok := strings.Cut(spec, "@")
	if !ok {
		return Schedule{}, fmt.Errorf("weekly schedule %q has no @ between days and times (syntax: %s)", spec, weeklySyntax)
	}
	var days []Weekday
	for _, f := range strings.Split(dayList, ",") {
		d, err := ParseWeekday(f)
		if err != nil {
			return Schedule{}, fmt.Errorf("%w (syntax: %s)", err, weeklySyntax)
		}
		days = append(days, d)
	}
	times, err := parseTimes(timeList)
	if err == nil {
		err = validateWeekdays(days)
	}
	if err != nil {
		return Schedule{}, fmt.Errorf("%w (syntax: %s)", err, weeklySyntax)
	}
	slices.Sort(days)
	return Schedule{Kind: Weekly, Times: times, Weekdays: days}, nil
}

// parseTimes reads 1–3 comma-separated times and returns them as "HH:MM".
func parseTimes(list string) ([]string, error) {
	s := Schedule{Kind: Daily, Times: strings.Split(list, ",")}
	clocks, err := s.clocks()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(clocks))
	for i, c := range clocks {
		out[i] = formatClock(c)
	}
	return out, nil
}

// ParseZone checks the value of --tz and returns it trimmed; "" means UTC.
func ParseZone(name string) (string, error) {
	name = strings.TrimSpace(name)
	if _, err := loadZone(name); err != nil {
		return "", err
	}
	return name, nil
}

// ParseKeepDaily reads the value of --keep-daily, "N" days.
func ParseKeepDaily(spec string) (*DailyTier, error) {
	n, err := parseCount("--keep-daily", "days", spec)
	if err != nil {
		return nil, err
	}
	return &DailyTier{Days: n}, nil
}

// ParseKeepWeekly reads the value of --keep-weekly, "N[:DAY]"; DAY defaults to Sunday.
func ParseKeepWeekly(spec string) (*WeeklyTier, error) {
	count, day, hasDay := strings.Cut(spec, ":")
	n, err := parseCount("--keep-weekly", "weeks", count)
	if err != nil {
		return nil, err
	}
	tier := &WeeklyTier{Weeks: n, Day: Weekday(time.Sunday)}
	if hasDay {
		if tier.Day, err = ParseWeekday(day); err != nil {
			return nil, fmt.Errorf("%w (syntax: %s)", err, keepWeeklySyntax)
		}
	}
	return tier, nil
}

// ParseKeepMonthly reads the value of --keep-monthly, "N[:RULE]"; RULE defaults to day 1.
func ParseKeepMonthly(spec string) (*MonthlyTier, error) {
	count, rule, hasRule := strings.Cut(spec, ":")
	n, err := parseCount("--keep-monthly", "months", count)
	if err != nil {
		return nil, err
	}
	tier := &MonthlyTier{Months: n, Day: "1"}
	if hasRule {
		if tier.Day, err = ParseDayRule(rule); err != nil {
			return nil, fmt.Errorf("%w (syntax: %s)", err, keepMonthlySyntax)
		}
	}
	return tier, nil
}

// ParseKeepYearly reads the value of --keep-yearly, "N[:MONTH[:RULE]]";
// MONTH defaults to January and RULE to day 1.
func ParseKeepYearly(spec string) (*YearlyTier, error) {
	parts := strings.SplitN(spec, ":", 3)
	n, err := parseCount("--keep-yearly", "years", parts[0])
	if err != nil {
		return nil, err
	}
	tier := &YearlyTier{Years: n, Month: time.January, Day: "1"}
	if len(parts) > 1 {
		if tier.Month, err = ParseMonth(parts[1]); err != nil {
			return nil, fmt.Errorf("%w (syntax: %s)", err, keepYearlySyntax)
		}
	}
	if len(parts) > 2 {
		if tier.Day, err = ParseDayRule(parts[2]); err != nil {
			return nil, fmt.Errorf("%w (syntax: %s)", err, keepYearlySyntax)
		}
	}
	return tier, nil
}

// ParseMonth reads a month as jan … dec, a full English name (any case), or 1 to 12.
func ParseMonth(s string) (time.Month, error) {
	low := strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.Atoi(low); err == nil && n >= 1 && n <= 12 {
		return time.Month(n), nil
	}
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		if low == name || low == name[:3] {
			return m, nil
		}
	}
	return 0, fmt.Errorf("month %q is not recognised: use %s", s, monthSyntax)
}

// parseCount reads a tier count and checks it is 1 to MaxCount.
func parseCount(flag, unit, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxCount {
		return 0, fmt.Errorf("%s %q is not a number of %s from 1 to %d", flag, s, unit, MaxCount)
	}
	return n, nil
}
