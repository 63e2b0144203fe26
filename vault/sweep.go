package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/policy"
)

// RefWalker yields every chunk a point's root object refers to (the root
// itself included or not: Sweep yields the root anyway). Vault cannot read
// disk block maps or share trees, so the caller (vmdisk, fileshare through
// the daemon) supplies one per source kind.
type RefWalker func(ctx context.Context, root blockstore.ID, yield func(blockstore.ID) error) error

// Walkers maps a source kind (KindDisk, KindShare) to its RefWalker.
type Walkers map[string]RefWalker

// PointRef names one recovery point.
type PointRef struct {
	Item string `json:"item"`
	ID   string `json:"id"`
}

// SweepResult says what a sweep removed.
type SweepResult struct {
	PointsDeleted []PointRef         `json:"points_deleted,omitempty"`
	ItemsPurged   []string           `json:"items_purged,omitempty"`
	GC            blockstore.GCStats `json:"gc"`
}

// Sweep is Expire then CollectGarbage: it deletes expired points (never the
// newest point of an item that is not soft-deleted), purges soft-deleted
// items whose purge time has passed (on an immutable vault only once every
// point has expired too), commits that, then runs blockstore GC with every
// remaining point, soft-deleted ones included, as live roots.
func (v *Vault) Sweep(ctx context.Context, now time.Time, walkers Walkers) (SweepResult, error) {
	res, err := v.Expire(ctx, now)
	if err != nil {
		return res, err
	}
	res.GC, err = v.CollectGarbage(ctx, walkers)
	return res, err
}

// Expire deletes expired points and purges due soft-deleted items in one
// catalog batch; their chunks stay until CollectGarbage. Works while locked.
func (v *Vault) Expire(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	err := v.expire(ctx, now, &res)
	if err != nil {
		return SweepResult{}, err
	}
	return res, nil
}

// CollectGarbage runs blockstore GC with the chunks of every point that is
// not purged as live. walkers must cover the kind of every such point, or
// nothing is collected (a missing walker would make live chunks look dead).
// Close a backup's blockstore Writer only after its AddPoint, so its chunks
// are protected until the point is in the catalog.
func (v *Vault) CollectGarbage(ctx context.Context, walkers Walkers) (blockstore.GCStats, error) {
	live, err := v.liveEnumerator(walkers)
	if err != nil {
		return blockstore.GCStats{}, err
	}
	gc, err := v.Store().GC(ctx, live)
	if errors.Is(err, blockstore.ErrLocked) {
		return gc, &Error{Kind: ErrLocked, Err: err, Msg: fmt.Sprintf("vault %q is locked: run \"rewind vault unlock %s\"", v.name, v.name)}
	}
	if err != nil {
		return gc, fmt.Errorf("garbage-collect vault %q: %w", v.name, err)
	}
	return gc, nil
}

// expire deletes expired points and purges due soft-deleted items, in one
// batch.
func (v *Vault) expire(ctx context.Context, now time.Time, res *SweepResult) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, err := v.Settings()
	if err != nil {
		return err
	}
	items, err := v.Items(ctx)
	if err != nil {
		return err
	}
	t := v.cat().begin()
	defer t.abort()
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := v.expireItem(t, it, now, s.Immutability.Guarded(), res); err != nil {
			return err
		}
	}
	return t.commit()
}

func (v *Vault) expireItem(t *txn, it Item, now time.Time, guarded bool, res *SweepResult) error {
	if !it.State.Live() {
		return nil
	}
	points, err := v.Points(ctx0, it.Name)
	if err != nil || len(points) == 0 && it.State != StateDeleted {
		return err
	}
	if it.State == StateDeleted {
		return v.purgeIfDue(t, it, points, now, guarded, res)
	}
	for _, pp := range policy.Expired(toPolicyPoints(points), now) {
		id := pp.Time.UTC().Format(PointIDLayout)
		if err := t.del(pointKey(it.Name, id)); err != nil {
			return err
		}
		res.PointsDeleted = append(res.PointsDeleted, PointRef{Item: it.Name, ID: id})
	}
	return nil
}

func (v *Vault) purgeIfDue(t *txn, it Item, points []Point, now time.Time, guarded bool, res *SweepResult) error {
	if now.Before(it.PurgeAt) {
		return nil
	}
	if guarded {
		for _, p := range points {
			if !p.Expired(now) {
				return nil
			}
		}
	}
	if err := v.purgeItem(t, &it, points, now); err != nil {
		return err
	}
	for _, p := range points {
		res.PointsDeleted = append(res.PointsDeleted, PointRef{Item: it.Name, ID: p.ID})
	}
	res.ItemsPurged = append(res.ItemsPurged, it.Name)
	return v.audit(t, "", "purge item "+it.Name, OutcomeDone, fmt.Sprintf("%d points, soft-deleted at %s", len(points), it.DeletedAt.Format(time.RFC3339)))
}
