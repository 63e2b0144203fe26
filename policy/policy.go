package policy

import (
	"errors"
	"fmt"
)

// Policy is a schedule plus a retention. It is stored as JSON in the catalog;
// the field names are stable.
type Policy struct {
	Schedule  Schedule  `json:"schedule"`
	Retention Retention `json:"retention"`
}

// Default returns the policy an item gets when none is named: daily once at
// 22:30 UTC, every point kept 30 days.
func Default() Policy {
	return Policy{
		Schedule:  Schedule{Kind: Daily, Times: []string{"22:30"}, Zone: "UTC"},
		Retention: Retention{Daily: &DailyTier{Days: 30}},
	}
}

// Validate checks the schedule and the retention and joins every problem found.
func (p Policy) Validate() error {
	var errs []error
	if err := p.Schedule.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("schedule: %w", err))
	}
	if err := p.Retention.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("retention: %w", err))
	}
	return errors.Join(errs...)
}
