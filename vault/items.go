package vault

import (
	"context"
)

// AddItem protects a new source: the item starts in protection pending. The
// name follows NameRule and is unique in the vault (a purged item's name may
// be reused). The policy must exist ("" = the default policy).
func (v *Vault) AddItem(ctx context.Context, spec ItemSpec) (Item, error) {
	if err := checkItemSpec(spec); err != nil {
		return Item{}, err
	}
	if spec.Policy == "" {
		spec.Policy = DefaultPolicyName
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.Policy(ctx, spec.Policy); err != nil {
		return Item{}, err
	}
	if old, err := v.Item(ctx, spec.Name); err == nil && old.State != StatePurged {
		return Item{}, refuse(ErrExists, "item %q already exists in vault %q (%s): choose another name", spec.Name, v.name, old.State)
	}
	now := v.now()
	it := Item{V: 1, Name: spec.Name, Source: spec.Source, Policy: spec.Policy, PreFreeze: spec.PreFreeze,
		PostThaw: spec.PostThaw, Bandwidth: spec.Bandwidth, State: StatePending, Created: now, Updated: now}
	return it, v.putItem(it)
}

func checkItemSpec(spec ItemSpec) error {
	if err := checkName("item", spec.Name); err != nil {
		return err
	}
	if err := spec.Source.validate(); err != nil {
		return err
	}
	if spec.Bandwidth != nil {
		return spec.Bandwidth.Validate()
	}
	return nil
}

func (v *Vault) putItem(it Item) error {
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(itemKey(it.Name), it); err != nil {
		return err
	}
	return t.commit()
}

// Item returns the item called name (also when purged).
func (v *Vault) Item(ctx context.Context, name string) (Item, error) {
	var it Item
	found, err := v.cat().getJSON(itemKey(name), &it)
	if err == nil && !found {
		err = notFound("item %q does not exist in vault %q: see \"rewind item list --vault %s\"", name, v.name, v.name)
	}
	return it, err
}

// Items lists every item by name, purged ones included (filter on State.Live).
func (v *Vault) Items(ctx context.Context) ([]Item, error) {
	return listJSON[Item](v.cat(), prefItem)
}

// UpdateItem changes an item's policy, source options, hooks or bandwidth.
// A policy change re-expires the item's points under the new policy; on an
// immutable vault a new policy whose retention Shortens the old one is
// refused. The source kind cannot change.
func (v *Vault) UpdateItem(ctx context.Context, name string, u ItemUpdate, principal string) (Item, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	it, err := v.liveItem(ctx, name)
	if err != nil {
		return it, err
	}
	old := it
	if err := applyItemUpdate(&it, u); err != nil {
		return old, err
	}
	it.Updated = v.now()
	t := v.cat().begin()
	defer t.abort()
	if it.Policy != old.Policy {
		if err := v.changeItemPolicy(t, old, it.Policy, principal); err != nil {
			return old, err
		}
	}
	if err := t.put(itemKey(name), it); err != nil {
		return old, err
	}
	return it, t.commit()
}

func applyItemUpdate(it *Item, u ItemUpdate) error {
	if u.Source != nil {
		if u.Source.Kind != it.Source.Kind {
			return invalid("item %q protects a %s; its source cannot become a %s: add a new item instead", it.Name, it.Source.Kind, u.Source.Kind)
		}
		if err := u.Source.validate(); err != nil {
			return err
		}
		it.Source = *u.Source
	}
	if u.Bandwidth != nil {
		if b := *u.Bandwidth; b != nil {
			if err := b.Validate(); err != nil {
				return err
			}
		}
		it.Bandwidth = *u.Bandwidth
	}
	setIf(&it.Policy, u.Policy)
	setIf(&it.PreFreeze, u.PreFreeze)
	setIf(&it.PostThaw, u.PostThaw)
	return nil
}

func setIf(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

// changeItemPolicy adds to t the re-expiry of the item's points under the
// new policy, refusing a shortening on an immutable vault.
func (v *Vault) changeItemPolicy(t *txn, it Item, newPolicy, principal string) error {
	from, err := v.Policy(ctx0, it.Policy)
	if err != nil {
		return err
	}
	to, err := v.Policy(ctx0, newPolicy)
	if err != nil {
		return err
	}
	s, err := v.Settings()
	if err != nil {
		return err
	}
	if s.Immutability.Guarded() && to.Spec.Retention.Shortens(from.Spec.Retention) {
		return v.auditRefusal(principal, "move item "+it.Name+" to policy "+newPolicy,
			refuse(ErrImmutable, "item %q: policy %q keeps points shorter than %q and vault %q has immutability %s: choose a policy that keeps them at least as long",
				it.Name, newPolicy, it.Policy, v.name, s.Immutability))
	}
	_, err = v.reexpireItem(t, it.Name, to.Spec, s.Immutability.Guarded())
	return err
}

// liveItem returns an item that is not purged.
func (v *Vault) liveItem(ctx context.Context, name string) (Item, error) {
	it, err := v.Item(ctx, name)
	if err == nil && it.State == StatePurged {
		err = notFound("item %q was purged from vault %q", name, v.name)
	}
	return it, err
}
