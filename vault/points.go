package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/rewind-backup/rewind/policy"
)

// Latest may be passed as a point id to mean the newest point.
const Latest = "latest"

// AddPoint records a new recovery point of p.Item and marks the item
// protected. p.Time is truncated to the second (UTC) and becomes the id; if
// that second is taken, or not after the newest point, it is bumped to the
// next free second after the newest. Tiers and Expiry are computed here:
// from the item's policy, or for OnDemand points from RetainUntil.
func (v *Vault) AddPoint(ctx context.Context, p Point) (Point, error) {
	if err := checkPoint(p); err != nil {
		return p, err
	}
	if err := v.checkOwner(ctx); err != nil { // a point wholly deduplicated seals nothing: check here too
		return p, fmt.Errorf("record point of item %q: %w", p.Item, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	it, err := v.Item(ctx, p.Item)
	if err != nil {
		return p, err
	}
	if it.State != StatePending && it.State != StateProtected {
		return p, refuse(ErrConflict, "item %q is %s, so it takes no new recovery points: run \"rewind item resume %s\" first", it.Name, it.State, it.Name)
	}
	existing, err := v.Points(ctx, p.Item)
	if err != nil {
		return p, err
	}
	p.V, p.Time = 1, pointTime(p.Time, existing)
	p.ID = p.Time.Format(PointIDLayout)
	if err := v.classify(ctx, it, &p, existing); err != nil {
		return p, err
	}
	return p, v.commitPoint(it, p)
}

func checkPoint(p Point) error {
	switch {
	case p.Kind != Full && p.Kind != Incremental:
		return invalid("point kind %q is unknown: use %q or %q", p.Kind, Full, Incremental)
	case p.Consistency != ConsistencyApplication && p.Consistency != ConsistencyFileSystem && p.Consistency != ConsistencyCrash:
		return invalid("consistency %q is unknown: use application, file-system or crash", p.Consistency)
	case p.Root.IsZero():
		return invalid("point of item %q has no root object", p.Item)
	case p.Time.IsZero():
		return invalid("point of item %q has no time", p.Item)
	}
	return nil
}

// pointTime is t at second precision in UTC, bumped past the newest point.
func pointTime(t time.Time, existing []Point) time.Time {
	t = t.UTC().Truncate(time.Second)
	if n := len(existing); n > 0 && !t.After(existing[n-1].Time) {
		t = existing[n-1].Time.Add(time.Second)
	}
	return t
}

// classify sets p.Tiers and p.Expiry.
func (v *Vault) classify(ctx context.Context, it Item, p *Point, existing []Point) error {
	if p.OnDemand {
		pp, err := policy.OnDemandPoint(p.Time, p.RetainUntil)
		if err != nil {
			return &Error{Kind: ErrInvalid, Msg: "on-demand backup of item " + quote(it.Name), Err: err}
		}
		p.Tiers, p.Expiry = nil, pp.Expiry.UTC()
		return nil
	}
	pol, err := v.Policy(ctx, it.Policy)
	if err != nil {
		return err
	}
	pp, err := pol.Spec.NewPoint(p.Time, toPolicyPoints(existing))
	if err != nil {
		return &Error{Kind: ErrInvalid, Err: err,
			Msg: fmt.Sprintf("policy %q of item %q cannot classify the point: fix it with \"rewind policy set\"", pol.Name, it.Name)}
	}
	p.Tiers, p.Expiry = pp.Tiers, pp.Expiry.UTC()
	return nil
}

func toPolicyPoints(ps []Point) []policy.Point {
	out := make([]policy.Point, len(ps))
	for i, p := range ps {
		out[i] = policy.Point{Time: p.Time, OnDemand: p.OnDemand, Tiers: p.Tiers, Expiry: p.Expiry}
	}
	return out
}

func (v *Vault) commitPoint(it Item, p Point) error {
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(pointKey(p.Item, p.ID), p); err != nil {
		return err
	}
	if it.State == StatePending {
		it.State, it.Updated = StateProtected, v.now()
		if err := t.put(itemKey(it.Name), it); err != nil {
			return err
		}
	}
	return t.commit()
}

// Points lists an item's points, oldest first.
func (v *Vault) Points(ctx context.Context, item string) ([]Point, error) {
	return listJSON[Point](v.cat(), pointPrefix(item))
}

// Point returns one point of item by id (RFC 3339, any offset; or Latest).
func (v *Vault) Point(ctx context.Context, item, id string) (Point, error) {
	if id == Latest {
		return v.latestPoint(item)
	}
	t, err := time.Parse(time.RFC3339, id)
	if err != nil {
		return Point{}, invalid("point %q is not an RFC 3339 time: use e.g. 2026-01-02T22:30:00Z or %q", id, Latest)
	}
	var p Point
	found, err := v.cat().getJSON(pointKey(item, t.UTC().Format(PointIDLayout)), &p)
	if err == nil && !found {
		err = notFound("item %q has no recovery point %s: see \"rewind points %s\"", item, id, item)
	}
	return p, err
}

func (v *Vault) latestPoint(item string) (Point, error) {
	key, err := v.cat().last(pointPrefix(item))
	if err != nil {
		return Point{}, err
	}
	if key == "" {
		return Point{}, notFound("item %q has no recovery points yet: run \"rewind backup %s\"", item, item)
	}
	var p Point
	_, err = v.cat().getJSON(key, &p)
	return p, err
}

func quote(s string) string { return `"` + s + `"` }
