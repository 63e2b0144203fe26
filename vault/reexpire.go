package vault

import (
	"time"

	"github.com/rewind-backup/rewind/policy"
)

// reexpireItem adds to t the points of item whose expiry changes under spec.
// When guarded (immutability on or locked) an expiry never moves earlier.
func (v *Vault) reexpireItem(t *txn, item string, spec policy.Policy, guarded bool) (int, error) {
	points, err := v.Points(ctx0, item)
	if err != nil || len(points) == 0 {
		return 0, err
	}
	re, err := spec.Reexpire(toPolicyPoints(points))
	if err != nil {
		return 0, err
	}
	n := 0
	for i, p := range points {
		e := re[i].Expiry.UTC()
		if guarded {
			e = laterExpiry(e, p.Expiry)
		}
		if e.Equal(p.Expiry) {
			continue
		}
		p.Expiry = e
		if err := t.put(pointKey(item, p.ID), p); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// laterExpiry returns the later of two expiries; zero means never.
func laterExpiry(a, b time.Time) time.Time {
	if a.IsZero() || b.IsZero() {
		return time.Time{}
	}
	if a.After(b) {
		return a
	}
	return b
}
