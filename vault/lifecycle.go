package vault

import (
	"context"
	"time"
)

// StopProtection stops scheduled backups of an item. Without deleteData the
// points are retained (state protection-stopped; the newest is never
// expired). With deleteData the item is soft-deleted: its points stay
// recoverable (Undelete) until PurgeAt = now + the soft-delete period, and on
// an immutable vault no earlier than the last point's expiry. Only when soft
// delete is disabled (immutability off) are the points purged at once. A
// queued or running backup of the item is refused with ErrConflict.
func (v *Vault) StopProtection(ctx context.Context, name string, deleteData bool, principal string) (Item, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	it, err := v.liveItem(ctx, name)
	if err != nil {
		return it, err
	}
	if err := v.checkStoppable(it, deleteData); err != nil {
		return it, err
	}
	if !deleteData {
		now := v.now()
		it.State, it.StoppedAt, it.Updated = StateStopped, now, now
		return it, v.putItem(it)
	}
	return v.deleteItemData(it, principal)
}

func (v *Vault) checkStoppable(it Item, deleteData bool) error {
	if it.State == StateDeleted {
		return refuse(ErrConflict, "item %q is already soft-deleted (purge at %s): run \"rewind item undelete %s\" to bring it back",
			it.Name, it.PurgeAt.Format(time.RFC3339), it.Name)
	}
	if it.State == StateStopped && !deleteData {
		return refuse(ErrConflict, "protection of item %q is already stopped: run \"rewind item resume %s\" to restart it", it.Name, it.Name)
	}
	busy, err := v.Jobs(ctx0, JobFilter{Item: it.Name, Type: JobBackup, Active: true})
	if err != nil || len(busy) == 0 {
		return err
	}
	return refuse(ErrConflict, "item %q has a backup %s (job %s): wait for it or run \"rewind job cancel %s\"",
		it.Name, busy[0].Status, busy[0].ID, busy[0].ID)
}

// deleteItemData soft-deletes it, or purges it when soft delete is off.
func (v *Vault) deleteItemData(it Item, principal string) (Item, error) {
	s, err := v.Settings()
	if err != nil {
		return it, err
	}
	points, err := v.Points(ctx0, it.Name)
	if err != nil {
		return it, err
	}
	now := v.now()
	t := v.cat().begin()
	defer t.abort()
	if s.SoftDeleteDays == 0 && !s.Immutability.Guarded() {
		if err := v.purgeItem(t, &it, points, now); err != nil {
			return it, err
		}
		err = v.audit(t, principal, "delete item "+it.Name, OutcomeDone, "purged at once: soft delete is disabled")
	} else {
		it.State, it.DeletedAt, it.Updated = StateDeleted, now, now
		it.PurgeAt = purgeTime(now.Add(s.SoftDeletePeriod()), points, s.Immutability.Guarded())
		if err = t.put(itemKey(it.Name), it); err == nil {
			err = v.audit(t, principal, "delete item "+it.Name, OutcomeDone, "soft-deleted until "+it.PurgeAt.Format(time.RFC3339))
		}
	}
	if err != nil {
		return it, err
	}
	return it, t.commit()
}

// purgeTime is base, or on a guarded vault no earlier than any point's
// expiry (a point that never expires keeps base; Sweep re-checks).
func purgeTime(base time.Time, points []Point, guarded bool) time.Time {
	if !guarded {
		return base
	}
	for _, p := range points {
		if p.Expiry.After(base) {
			base = p.Expiry
		}
	}
	return base
}

// purgeItem adds to t the removal of every point of it and its purged state.
func (v *Vault) purgeItem(t *txn, it *Item, points []Point, now time.Time) error {
	for _, p := range points {
		if err := t.del(pointKey(it.Name, p.ID)); err != nil {
			return err
		}
	}
	it.State, it.PurgedAt, it.Updated = StatePurged, now, now
	return t.put(itemKey(it.Name), *it)
}

// ResumeProtection restarts scheduled backups of a stopped item: it becomes
// protected when it has points, protection pending otherwise. A soft-deleted
// item must be undeleted first.
func (v *Vault) ResumeProtection(ctx context.Context, name string) (Item, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	it, err := v.liveItem(ctx, name)
	if err != nil {
		return it, err
	}
	switch it.State {
	case StateDeleted:
		return it, refuse(ErrConflict, "item %q is soft-deleted: run \"rewind item undelete %s\" first", name, name)
	case StatePending, StateProtected:
		return it, refuse(ErrConflict, "item %q is already %s", name, it.State)
	}
	it.State = StatePending
	if _, err := v.latestPoint(name); err == nil {
		it.State = StateProtected
	}
	it.StoppedAt, it.Updated = time.Time{}, v.now()
	return it, v.putItem(it)
}

// Undelete brings a soft-deleted item back with all its points, in state
// protection-stopped (data retained); ResumeProtection restarts backups.
func (v *Vault) Undelete(ctx context.Context, name, principal string) (Item, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	it, err := v.liveItem(ctx, name)
	if err != nil {
		return it, err
	}
	if it.State != StateDeleted {
		return it, refuse(ErrConflict, "item %q is %s, not soft-deleted: nothing to undelete", name, it.State)
	}
	now := v.now()
	it.State, it.DeletedAt, it.PurgeAt, it.Updated = StateStopped, time.Time{}, time.Time{}, now
	if it.StoppedAt.IsZero() {
		it.StoppedAt = now
	}
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(itemKey(name), it); err != nil {
		return it, err
	}
	if err := v.audit(t, principal, "undelete item "+name, OutcomeDone, ""); err != nil {
		return it, err
	}
	return it, t.commit()
}

// CheckStop reports the refusal StopProtection(name, deleteData) would give
// now, changing nothing: the daemon refuses an impossible stop at once
// instead of queueing it for approval.
func (v *Vault) CheckStop(ctx context.Context, name string, deleteData bool) error {
	it, err := v.liveItem(ctx, name)
	if err != nil {
		return err
	}
	return v.checkStoppable(it, deleteData)
}
