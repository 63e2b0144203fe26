package policy

import (
	"reflect"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		flag, in string
		want     Schedule
		err      string
	}{
		{"daily", "22:30", daily("", "22:30"), ""},
		{"daily", "18:00, 0:00", daily("", "00:00", "18:00"), ""},
		{"daily", "1:00,2:00,3:00,4:00", Schedule{}, "give 1 to 3"},
		{"daily", "25:00", Schedule{}, "syntax: --daily HH:MM[,HH:MM…]"},
		{"daily", "", Schedule{}, `time "" is not valid`},
		{"weekly", "Thursday,mon@22:30", weekly("", []Weekday{1, 4}, "22:30"), ""},
		{"weekly", "SUN@02:30,04:00", weekly("", []Weekday{0}, "02:30", "04:00"), ""},
		{"weekly", "mon,thu", Schedule{}, "has no @ between days and times"},
		{"weekly", "mon,xyz@10:00", Schedule{}, `weekday "xyz" is not recognised: use Mon, Tue`},
		{"weekly", "mon,mon@10:00", Schedule{}, "Monday is listed twice"},
		{"weekly", "mon@10:00,9", Schedule{}, "syntax: --weekly DAY[,DAY…]@HH:MM"},
	}
	for _, tt := range tests {
		parse := ParseDaily
		if tt.flag == "weekly" {
			parse = ParseWeekly
		}
		got, err := parse(tt.in)
		checkErr(t, err, tt.err)
		if tt.err == "" && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse %s %q = %+v, want %+v", tt.flag, tt.in, got, tt.want)
		}
	}
}

func TestParseZone(t *testing.T) {
	for in, err := range map[string]string{"Europe/Berlin": "", " UTC ": "", "": "", "Europe/Nowhere": `time zone "Europe/Nowhere" is not an IANA zone name`, "Local": "depends on the host"} {
		_, e := ParseZone(in)
		checkErr(t, e, err)
	}
}

func TestParseKeep(t *testing.T) {
	tests := []struct {
		flag, in string
		want     any
		err      string
	}{
		{"daily", "30", &DailyTier{Days: 30}, ""},
		{"daily", "0", nil, `--keep-daily "0" is not a number of days from 1 to 9999`},
		{"daily", "10000", nil, "from 1 to 9999"},
		{"daily", "ten", nil, "from 1 to 9999"},
		{"weekly", "104", &WeeklyTier{Weeks: 104, Day: Weekday(time.Sunday)}, ""},
		{"weekly", "4:sat", &WeeklyTier{Weeks: 4, Day: Weekday(time.Saturday)}, ""},
		{"weekly", "4:someday", nil, "syntax: --keep-weekly N[:DAY]"},
		{"weekly", "-1:sat", nil, `--keep-weekly "-1" is not a number of weeks`},
		{"monthly", "12", &MonthlyTier{Months: 12, Day: "1"}, ""},
		{"monthly", "120:Last-Sunday", &MonthlyTier{Months: 120, Day: "last-sun"}, ""},
		{"monthly", "12:31", nil, "day of month 31 is out of range"},
		{"yearly", "99", &YearlyTier{Years: 99, Month: time.January, Day: "1"}, ""},
		{"yearly", "99:jan:first-sun", &YearlyTier{Years: 99, Month: time.January, Day: "first-sun"}, ""},
		{"yearly", "10:3:last-sat", &YearlyTier{Years: 10, Month: time.March, Day: "last-sat"}, ""},
		{"yearly", "10:December", &YearlyTier{Years: 10, Month: time.December, Day: "1"}, ""},
		{"yearly", "10:13", nil, `month "13" is not recognised: use jan … dec`},
		{"yearly", "10:mar:fifth-sat", nil, "syntax: --keep-yearly N[:MONTH[:RULE]]"},
	}
	for _, tt := range tests {
		var got any
		var err error
		switch tt.flag {
		case "daily":
			got, err = ParseKeepDaily(tt.in)
		case "weekly":
			got, err = ParseKeepWeekly(tt.in)
		case "monthly":
			got, err = ParseKeepMonthly(tt.in)
		case "yearly":
			got, err = ParseKeepYearly(tt.in)
		}
		checkErr(t, err, tt.err)
		if tt.err == "" && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseKeep %s %q = %+v, want %+v", tt.flag, tt.in, got, tt.want)
		}
	}
}
