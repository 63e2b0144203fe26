package policy

import (
	"errors"
	"fmt"
	"time"
)

// Tier names a retention tier a point belongs to.
type Tier string

const (
	TierDaily   Tier = "daily"
	TierWeekly  Tier = "weekly"
	TierMonthly Tier = "monthly"
	TierYearly  Tier = "yearly"
)

// MaxCount is the largest count any tier accepts (days, weeks, months or years).
const MaxCount = 9999

// Retention says how long points live. A nil tier is off; at least one must be on.
// A point belongs to every tier whose rule it meets and lives until the latest
// of those tiers' expiries, counted on the local calendar of the policy's zone
// from the point's own local time (30 days after 22:30 on 1 March is 22:30 on
// 31 March, whatever daylight saving does in between).
type Retention struct {
	Daily   *DailyTier   `json:"daily,omitempty"`
	Weekly  *WeeklyTier  `json:"weekly,omitempty"`
	Monthly *MonthlyTier `json:"monthly,omitempty"`
	Yearly  *YearlyTier  `json:"yearly,omitempty"`
}

// DailyTier keeps every scheduled point for Days days.
type DailyTier struct {
	Days int `json:"days"`
}

// WeeklyTier keeps the first point taken on Day each week for Weeks weeks.
type WeeklyTier struct {
	Weeks int     `json:"weeks"`
	Day   Weekday `json:"day"`
}

// MonthlyTier keeps the first point taken on the Day of each month for Months months.
type MonthlyTier struct {
	Months int     `json:"months"`
	Day    DayRule `json:"day"`
}

// YearlyTier keeps the first point taken on the Day of Month each year for Years years.
type YearlyTier struct {
	Years int        `json:"years"`
	Month time.Month `json:"month"`
	Day   DayRule    `json:"day"`
}

// counts returns each enabled tier's count.
func (r Retention) counts() map[Tier]int {
	c := map[Tier]int{}
	if r.Daily != nil {
		c[TierDaily] = r.Daily.Days
	}
	if r.Weekly != nil {
		c[TierWeekly] = r.Weekly.Weeks
	}
	if r.Monthly != nil {
		c[TierMonthly] = r.Monthly.Months
	}
	if r.Yearly != nil {
		c[TierYearly] = r.Yearly.Years
	}
	return c
}

// Validate checks that at least one tier is on and every count and rule is in range.
func (r Retention) Validate() error {
	counts := r.counts()
	if len(counts) == 0 {
		return errors.New("retention keeps nothing: enable at least one of --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly")
	}
	var errs []error
	for _, tier := range []Tier{TierDaily, TierWeekly, TierMonthly, TierYearly} {
		if n, ok := counts[tier]; ok && (n < 1 || n > MaxCount) {
			errs = append(errs, fmt.Errorf("%s retention count %d is out of range: use --keep-%s N with N from 1 to %d", tier, n, tier, MaxCount))
		}
	}
	if r.Weekly != nil && !r.Weekly.Day.valid() {
		errs = append(errs, fmt.Errorf("weekly retention day %d is out of range: use %s", int(r.Weekly.Day), weekdaySyntax))
	}
	if r.Monthly != nil {
		errs = append(errs, wrapRule("monthly", r.Monthly.Day.Validate()))
	}
	if r.Yearly != nil {
		errs = append(errs, wrapRule("yearly", r.Yearly.Day.Validate()))
		if r.Yearly.Month < time.January || r.Yearly.Month > time.December {
			errs = append(errs, fmt.Errorf("yearly retention month %d is out of range: use %s", int(r.Yearly.Month), monthSyntax))
		}
	}
	return errors.Join(errs...)
}

func wrapRule(tier string, err error) error {
	if err != nil {
		return fmt.Errorf("%s retention: %w", tier, err)
	}
	return nil
}

// Shortens reports whether moving from old to r would cut any point's life:
// a tier of old is off in r, or its count is smaller. Changing a tier's day
// does not shorten, because tiers are decided when a point is taken.
func (r Retention) Shortens(old Retention) bool {
	now := r.counts()
	for tier, n := range old.counts() {
		if now[tier] < n {
			return true
		}
	}
	return false
}

// tiersFor returns the tiers of a scheduled point read as the wall value w.
// Every scheduled point is daily; the other tiers take only the first point of
// the rule's day (first says whether it is).
func (r Retention) tiersFor(w time.Time, first bool) []Tier {
	var tiers []Tier
	if r.Daily != nil {
		tiers = append(tiers, TierDaily)
	}
	if !first {
		return tiers
	}
	if r.Weekly != nil && w.Weekday() == time.Weekday(r.Weekly.Day) {
		tiers = append(tiers, TierWeekly)
	}
	if r.Monthly != nil && r.Monthly.Day.Matches(w) {
		tiers = append(tiers, TierMonthly)
	}
	if r.Yearly != nil && w.Month() == r.Yearly.Month && r.Yearly.Day.Matches(w) {
		tiers = append(tiers, TierYearly)
	}
	return tiers
}

// tierEnd returns the wall value at which a point taken at wall value w leaves
// tier, and false when the tier is off.
func (r Retention) tierEnd(tier Tier, w time.Time) (time.Time, bool) {
	switch {
	case tier == TierDaily && r.Daily != nil:
		return w.AddDate(0, 0, r.Daily.Days), true
	case tier == TierWeekly && r.Weekly != nil:
		return w.AddDate(0, 0, 7*r.Weekly.Weeks), true
	case tier == TierMonthly && r.Monthly != nil:
		return addMonths(w, r.Monthly.Months), true
	case tier == TierYearly && r.Yearly != nil:
		return addMonths(w, 12*r.Yearly.Years), true
	}
	return time.Time{}, false
}

// expiry returns when a point taken at t in tiers expires: the latest of its
// tiers' ends, or t itself when no enabled tier holds it (it then lives only
// while it is the newest point).
func (r Retention) expiry(t time.Time, tiers []Tier, loc *time.Location) time.Time {
	w := wall(t, loc)
	end := w
	for _, tier := range tiers {
		if e, ok := r.tierEnd(tier, w); ok && e.After(end) {
			end = e
		}
	}
	if end.Equal(w) {
		return t
	}
	return resolve(end, loc).In(loc)
}
