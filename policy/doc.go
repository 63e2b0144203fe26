// Package policy is pure logic: schedules give next run instants in an IANA
// time zone (daylight saving handled exactly), retention rules decide which
// recovery points live until when. It imports nothing of ours and takes the
// current time as an argument.
//
// # Schedules
//
// A Schedule runs daily, or weekly on chosen weekdays, at 1–3 local "HH:MM"
// times in a zone (default UTC). Schedule.Next gives the first run strictly
// after an instant. A run time that does not exist (spring forward) runs once
// at the first valid instant after it: 02:30 becomes 03:00. A run time that
// occurs twice (fall back) runs once, at its first occurrence.
//
// # Retention
//
// A Retention has up to four tiers, each counted in its own unit from 1 to
// 9999: daily (days), weekly on a weekday (weeks), monthly on a DayRule
// (months) and yearly in a month on a DayRule (years). Every scheduled point
// belongs to the daily tier, so "daily at 00:00 and 18:00 kept 7 days" keeps
// both runs of each day. The weekly, monthly and yearly tiers take the first
// scheduled point of their rule's day, read in the policy's zone; a day with
// no point (a failed backup) leaves that week, month or year out. A point
// lives until the latest of its tiers' expiries, counted on the local
// calendar from the point's local time (a month after 31 January is the last
// day of February).
//
// Tiers are decided once, when a point is taken: vault calls Policy.NewPoint
// with the item's stored points and stores the returned Tiers and Expiry.
// When an item's policy changes, Policy.Reexpire recomputes expiries from the
// stored tiers, and Retention.Shortens tells an immutable vault to refuse it.
// On-demand points (OnDemandPoint) carry their own retain-until and take no
// part in tiers. Expired lists the points to delete at an instant; it never
// lists an item's newest point.
//
// # CLI syntax
//
//	--daily HH:MM[,HH:MM…]               ParseDaily
//	--weekly DAY[,DAY…]@HH:MM[,HH:MM…]   ParseWeekly (DAY: Mon…Sun or full names, any case)
//	--tz ZONE                            ParseZone (IANA name)
//	--keep-daily N                       ParseKeepDaily
//	--keep-weekly N[:DAY]                ParseKeepWeekly; DAY defaults to Sunday
//	--keep-monthly N[:RULE]              ParseKeepMonthly; RULE defaults to day 1
//	--keep-yearly N[:MONTH[:RULE]]       ParseKeepYearly; MONTH defaults to jan, RULE to day 1
//
// RULE is a day 1–28, "last" (the last day), or first|second|third|fourth|last
// followed by a weekday, e.g. "first-sun", "last-sat". Default() is daily at
// 22:30 UTC, kept 30 days.
package policy
