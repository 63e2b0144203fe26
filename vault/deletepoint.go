package vault

import (
	"context"
	"time"
)

// DeletePoint deletes one recovery point on request. On an immutable vault a
// point is refused (ErrImmutable, audited) before its expiry. Its chunks are
// reclaimed by the next Sweep.
func (v *Vault) DeletePoint(ctx context.Context, item, id, principal string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, err := v.Point(ctx, item, id)
	if err != nil {
		return err
	}
	s, err := v.Settings()
	if err != nil {
		return err
	}
	action := "delete point " + item + "/" + p.ID
	if now := v.now(); s.Immutability.Guarded() && !p.Expired(now) {
		until := "never expires"
		if !p.Expiry.IsZero() {
			until = "expires " + p.Expiry.Format(time.RFC3339)
		}
		return v.auditRefusal(principal, action, refuse(ErrImmutable,
			"point %s of item %q %s and vault %q has immutability %s: it cannot be deleted before then", p.ID, item, until, v.name, s.Immutability))
	}
	t := v.cat().begin()
	defer t.abort()
	if err := t.del(pointKey(item, p.ID)); err != nil {
		return err
	}
	if err := v.audit(t, principal, action, OutcomeDone, ""); err != nil {
		return err
	}
	return t.commit()
}
