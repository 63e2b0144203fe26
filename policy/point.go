package policy

import (
	"fmt"
	"time"
)

// Point is what policy needs to know about one recovery point of an item.
// Vault stores Tiers and Expiry with the point when it is taken, so tier
// membership never changes afterwards, and later calls Expired.
type Point struct {
	Time     time.Time `json:"time"`
	OnDemand bool      `json:"on_demand,omitempty"` // taken by "rewind backup", Expiry is its retain-until
	Tiers    []Tier    `json:"tiers,omitempty"`     // scheduled points only
	Expiry   time.Time `json:"expiry,omitzero"`     // zero means never
}

// NewPoint classifies a scheduled point taken at t, given the item's existing
// points. It belongs to the daily tier if that is on, and to the weekly,
// monthly and yearly tiers whose rule day (read in the policy's zone) t falls
// on, unless an earlier scheduled point was already taken that local day.
// On-demand points and points at or after t are ignored. An invalid policy
// is an error.
func (p Policy) NewPoint(t time.Time, existing []Point) (Point, error) {
	if err := p.Validate(); err != nil {
		return Point{}, err
	}
	loc, _ := loadZone(p.Schedule.Zone)
	w := wall(t, loc)
	first := true
	for _, e := range existing {
		recent := e.Time.Before(t) && t.Sub(e.Time) < 48*time.Hour // a local day spans at most ~26h
		if recent && !e.OnDemand && sameDay(wall(e.Time, loc), w) {
			first = false
			break
		}
	}
	tiers := p.Retention.tiersFor(w, first)
	return Point{Time: t, Tiers: tiers, Expiry: p.Retention.expiry(t, tiers, loc)}, nil
}

// OnDemandPoint returns an on-demand point taken at t that lives until
// retainUntil, whatever the policy says.
func OnDemandPoint(t, retainUntil time.Time) (Point, error) {
	if !retainUntil.After(t) {
		return Point{}, fmt.Errorf("retain-until %s is not after the backup time %s: give a later --retain-until date",
			retainUntil.Format(time.RFC3339), t.Format(time.RFC3339))
	}
	return Point{Time: t, OnDemand: true, Expiry: retainUntil}, nil
}

// Reexpire returns copies of points with the expiry of each scheduled point
// recomputed from its stored tiers under p, for when an item's policy changes:
// a longer count extends, a shorter one shortens, a tier turned off no longer
// holds the point. On-demand points keep their retain-until. On an immutable
// vault the caller refuses retention that Shortens, and keeps the later of the
// old and new expiry (a zone change may move an expiry by the offset difference).
func (p Policy) Reexpire(points []Point) ([]Point, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	loc, _ := loadZone(p.Schedule.Zone)
	out := make([]Point, len(points))
	for i, pt := range points {
		out[i] = pt
		if !pt.OnDemand {
			out[i].Expiry = p.Retention.expiry(pt.Time, pt.Tiers, loc)
		}
	}
	return out, nil
}

// Expired returns the points to delete at now: those whose expiry is at or
// before now, except the newest point of the item, which is always kept so a
// protected item never loses its last recovery point. Order is preserved.
func Expired(points []Point, now time.Time) []Point {
	newest := -1
	for i, pt := range points {
		if newest < 0 || pt.Time.After(points[newest].Time) {
			newest = i
		}
	}
	var out []Point
	for i, pt := range points {
		if i != newest && !pt.Expiry.IsZero() && !pt.Expiry.After(now) {
			out = append(out, pt)
		}
	}
	return out
}
