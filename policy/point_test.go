package policy

import (
	"testing"
	"time"
)

func TestExpired(t *testing.T) {
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(days int) time.Time { return base.AddDate(0, 0, days) }
	pt := func(day, expiryDay int) Point { return Point{Time: at(day), Expiry: at(expiryDay)} }
	tests := []struct {
		name   string
		points []Point
		now    time.Time
		want   []int // indexes into points
	}{
		{"none", nil, at(0), nil},
		{"expiry equal to now expires", []Point{pt(0, 5), pt(1, 6)}, at(5), []int{0}},
		{"before expiry stays", []Point{pt(0, 5), pt(1, 6)}, at(5).Add(-time.Nanosecond), nil},
		{"newest is kept though expired", []Point{pt(0, 5), pt(1, 6)}, at(100), []int{0}},
		{"newest found out of order", []Point{pt(3, 4), pt(1, 2), pt(2, 3)}, at(100), []int{1, 2}},
		{"zero expiry never expires", []Point{{Time: at(0)}, pt(1, 2)}, at(100), nil},
		{"on-demand newest is kept", []Point{pt(0, 2), {Time: at(1), OnDemand: true, Expiry: at(2)}}, at(3), []int{0}},
		{"on-demand older expires", []Point{{Time: at(0), OnDemand: true, Expiry: at(2)}, pt(1, 30)}, at(3), []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Expired(tt.points, tt.now)
			var want []Point
			for _, i := range tt.want {
				want = append(want, tt.points[i])
			}
			if len(got) != len(want) {
				t.Fatalf("Expired = %v, want %v", got, want)
			}
			for i := range got {
				if !got[i].Time.Equal(want[i].Time) {
					t.Errorf("Expired[%d] = %v, want %v", i, got[i].Time, want[i].Time)
				}
			}
		})
	}
}

func TestOnDemandPoint(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p, err := OnDemandPoint(now, now.AddDate(1, 0, 0))
	if err != nil || !p.OnDemand || !p.Expiry.Equal(now.AddDate(1, 0, 0)) || len(p.Tiers) != 0 {
		t.Errorf("OnDemandPoint = %+v, %v", p, err)
	}
	_, err = OnDemandPoint(now, now)
	checkErr(t, err, "retain-until 2026-05-01T12:00:00Z is not after the backup time 2026-05-01T12:00:00Z: give a later --retain-until date")
}

func TestReexpire(t *testing.T) {
	old := exampleA()
	sunday := mustTime(t, "2026-05-10T02:30:00+02:00")
	monday := mustTime(t, "2026-05-11T02:30:00+02:00")
	a, _ := old.NewPoint(sunday, nil)
	b, _ := old.NewPoint(monday, []Point{a})
	od, _ := OnDemandPoint(monday.Add(time.Hour), monday.AddDate(5, 0, 0))
	points := []Point{a, b, od}

	longer := old
	longer.Retention = with(old.Retention, func(r *Retention) { r.Weekly = &WeeklyTier{Weeks: 200, Day: 0} })
	shorter := old
	shorter.Retention = with(old.Retention, func(r *Retention) { r.Weekly = nil; r.Daily = &DailyTier{7} })
	tests := []struct {
		name string
		p    Policy
		want []string
	}{
		{"unchanged", old, []string{"2028-05-07T02:30:00+02:00", "2026-06-10T02:30:00+02:00", "2031-05-11T02:30:00+02:00"}},
		{"longer weekly extends", longer, []string{"2030-03-10T02:30:00+01:00", "2026-06-10T02:30:00+02:00", "2031-05-11T02:30:00+02:00"}},
		{"weekly off and shorter daily", shorter, []string{"2026-05-17T02:30:00+02:00", "2026-05-18T02:30:00+02:00", "2031-05-11T02:30:00+02:00"}},
	}
	for _, tt := range tests {
		got, err := tt.p.Reexpire(points)
		if err != nil {
			t.Fatal(err)
		}
		for i, pt := range got {
			if s := pt.Expiry.Format(time.RFC3339); s != tt.want[i] {
				t.Errorf("%s: point %d expiry %s, want %s", tt.name, i, s, tt.want[i])
			}
		}
	}
	if points[0].Expiry.Format(time.RFC3339) != "2028-05-07T02:30:00+02:00" {
		t.Error("Reexpire changed its input")
	}
}
