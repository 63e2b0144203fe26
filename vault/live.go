package vault

import (
	"context"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// liveEnumerator checks that walkers cover every kept point and returns the
// enumerator of their roots and references. Items and points are re-read
// when GC calls it.
func (v *Vault) liveEnumerator(walkers Walkers) (blockstore.Enumerator, error) {
	items, err := v.Items(ctx0)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if !it.State.Live() || walkers[it.Source.Kind] != nil {
			continue
		}
		if _, err := v.latestPoint(it.Name); err == nil {
			return nil, invalid("garbage collection of vault %q needs a reference walker for %s items (item %q): nothing was collected",
				v.name, it.Source.Kind, it.Name)
		}
	}
	return func(ctx context.Context, yield func(blockstore.ID) error) error {
		return v.enumerateLive(ctx, walkers, yield)
	}, nil
}

// LiveRoots calls fn with every point whose chunks must be kept: all points
// of every item that is not purged (soft-deleted items included).
func (v *Vault) LiveRoots(ctx context.Context, fn func(it Item, p Point) error) error {
	items, err := v.Items(ctx)
	if err != nil {
		return err
	}
	for _, it := range items {
		if !it.State.Live() {
			continue
		}
		err := scanJSON(v.cat(), pointPrefix(it.Name), func(p Point) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(it, p)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (v *Vault) enumerateLive(ctx context.Context, walkers Walkers, yield func(blockstore.ID) error) error {
	return v.LiveRoots(ctx, func(it Item, p Point) error {
		walk := walkers[it.Source.Kind]
		if walk == nil {
			return fmt.Errorf("no reference walker for %s item %q", it.Source.Kind, it.Name)
		}
		if err := yield(p.Root); err != nil {
			return err
		}
		if err := walk(ctx, p.Root, yield); err != nil {
			return fmt.Errorf("walk point %s of item %q: %w", p.ID, it.Name, err)
		}
		return nil
	})
}
