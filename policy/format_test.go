package policy

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestString(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		{Default(), "schedule:  daily at 22:30 (UTC)\nretention: daily 30 days"},
		{exampleA(), "schedule:  daily at 02:30 (Europe/Berlin)\nretention: daily 30 days; weekly (Sunday) 104 weeks; " +
			"monthly (the last Sunday) 120 months; yearly (the first Sunday of January) 99 years"},
		{exampleB(), "schedule:  daily at 00:00, 18:00 (America/New_York)\nretention: daily 7 days; weekly (Saturday) 4 weeks; " +
			"monthly (the last Saturday) 12 months; yearly (the last Saturday of March) 10 years"},
		{Policy{Schedule: weekly("", []Weekday{1, 4}, "22:30"), Retention: Retention{Monthly: &MonthlyTier{1, "1"}}},
			"schedule:  weekly on Mon, Thu at 22:30 (UTC)\nretention: monthly (day 1) 1 month"},
		{Policy{}, "schedule:  never (no run times)\nretention: nothing"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() =\n%s\nwant\n%s", got, tt.want)
		}
	}
}

// TestJSON pins the stored field names: vault keeps policies and points as JSON.
func TestJSON(t *testing.T) {
	p := exampleA()
	p.Schedule = weekly(berlin, []Weekday{0, 3}, "02:30")
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"schedule":{"kind":"weekly","times":["02:30"],"weekdays":["sun","wed"],"zone":"Europe/Berlin"},` +
		`"retention":{"daily":{"days":30},"weekly":{"weeks":104,"day":"sun"},"monthly":{"months":120,"day":"last-sun"},` +
		`"yearly":{"years":99,"month":1,"day":"first-sun"}}}`
	if string(b) != want {
		t.Errorf("json =\n%s\nwant\n%s", b, want)
	}
	var back Policy
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, p) {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"schedule":{"weekdays":["Funday"]}}`), &back); err == nil {
		t.Error("unmarshal accepted weekday Funday")
	}
}

func TestPointJSON(t *testing.T) {
	at := time.Date(2026, 5, 10, 2, 30, 0, 0, time.UTC)
	pts := []Point{
		{Time: at, Tiers: []Tier{TierDaily, TierWeekly}, Expiry: at.AddDate(0, 0, 30)},
		{Time: at, OnDemand: true, Expiry: at.AddDate(1, 0, 0)},
		{Time: at},
	}
	b, _ := json.Marshal(pts)
	const want = `[{"time":"2026-05-10T02:30:00Z","tiers":["daily","weekly"],"expiry":"2026-06-09T02:30:00Z"},` +
		`{"time":"2026-05-10T02:30:00Z","on_demand":true,"expiry":"2027-05-10T02:30:00Z"},{"time":"2026-05-10T02:30:00Z"}]`
	if string(b) != want {
		t.Errorf("json =\n%s\nwant\n%s", b, want)
	}
}
