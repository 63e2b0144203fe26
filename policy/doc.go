// Package policy is pure logic: schedules give next run instants in an IANA
// time zone (daylight saving handled exactly), retention rules decide which
// recovery points live until when. It imports nothing of ours and takes the
// current time as an argument.
package policy
