package policy

import "time"

// exampleA: daily 30 days, weekly Sunday 104 weeks, monthly last Sunday 120
// months, yearly first Sunday of January 99 years; runs daily at 02:30 in
// Berlin, so the last Sunday of March falls in the spring-forward gap.
func exampleA() Policy {
	return Policy{
		Schedule: daily(berlin, "02:30"),
		Retention: Retention{
			Daily:   &DailyTier{Days: 30},
			Weekly:  &WeeklyTier{Weeks: 104, Day: Weekday(time.Sunday)},
			Monthly: &MonthlyTier{Months: 120, Day: "last-sun"},
			Yearly:  &YearlyTier{Years: 99, Month: time.January, Day: "first-sun"},
		},
	}
}

// exampleB: daily at 00:00 and 18:00 in New York kept 7 days, Saturdays 4
// weeks, last Saturday of the month 12 months, last Saturday of March 10 years.
func exampleB() Policy {
	return Policy{
		Schedule: daily(ny, "00:00", "18:00"),
		Retention: Retention{
			Daily:   &DailyTier{Days: 7},
			Weekly:  &WeeklyTier{Weeks: 4, Day: Weekday(time.Saturday)},
			Monthly: &MonthlyTier{Months: 12, Day: "last-sat"},
			Yearly:  &YearlyTier{Years: 10, Month: time.March, Day: "last-sat"},
		},
	}
}

// exampleC: daily tier of 10 days; the simulation runs it every 5 days.
func exampleC() Policy {
	return Policy{Schedule: daily("UTC", "12:00"), Retention: Retention{Daily: &DailyTier{Days: 10}}}
}
