package policy_test

import (
	"fmt"
	"time"

	"github.com/rewind-backup/rewind/policy"
)

// The way vault uses the package: classify each point when it is taken,
// store it, and delete what Expired returns. The point of the spring-forward
// day ran at 03:00, so it outlives the 02:30 run two days later.
func Example() {
	p := policy.Default()
	p.Schedule.Zone = "America/New_York"
	p.Schedule.Times = []string{"02:30"}
	p.Retention.Daily.Days = 2

	var stored []policy.Point
	at := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	for range 4 {
		at, _ = p.Schedule.Next(at)
		pt, _ := p.NewPoint(at, stored)
		stored = append(stored, pt)
		fmt.Println("took", pt.Time.Format(time.RFC3339), "until", pt.Expiry.Format(time.RFC3339))
		for _, gone := range policy.Expired(stored, at) {
			fmt.Println("delete", gone.Time.Format(time.RFC3339))
			stored = stored[1:] // points are in time order here, and only the oldest expires
		}
	}
	// Output:
	// took 2026-03-07T02:30:00-05:00 until 2026-03-09T02:30:00-04:00
	// took 2026-03-08T03:00:00-04:00 until 2026-03-10T03:00:00-04:00
	// took 2026-03-09T02:30:00-04:00 until 2026-03-11T02:30:00-04:00
	// delete 2026-03-07T02:30:00-05:00
	// took 2026-03-10T02:30:00-04:00 until 2026-03-12T02:30:00-04:00
}

func ExampleParseKeepMonthly() {
	tier, err := policy.ParseKeepMonthly("120:Last-Sunday")
	fmt.Println(tier.Months, tier.Day, tier.Day.Describe(), err)
	_, err = policy.ParseKeepMonthly("12:31")
	fmt.Println(err)
	// Output:
	// 120 last-sun the last Sunday <nil>
	// day of month 31 is out of range: use a day 1-28, "last", or first|second|third|fourth|last-DAY such as "first-sun" or "last-sat" (syntax: --keep-monthly N[:RULE], e.g. 120:last-sun (RULE defaults to day 1))
}
