package vault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rewind-backup/rewind/policy"
)

// DefaultPolicyName is the policy every vault is created with
// (policy.Default()); items that name no policy get it. It cannot be deleted.
const DefaultPolicyName = "default"

// Policy is a named schedule and retention in a vault (key v/pol/<name>).
type Policy struct {
	V       int           `json:"v"`
	Name    string        `json:"name"`
	Spec    policy.Policy `json:"spec"`
	Created time.Time     `json:"created"`
	Updated time.Time     `json:"updated"`
}

func newDefaultPolicy(now time.Time) Policy {
	return Policy{V: 1, Name: DefaultPolicyName, Spec: policy.Default(), Created: now, Updated: now}
}

func checkSpec(name string, spec policy.Policy) error {
	if err := spec.Validate(); err != nil {
		return &Error{Kind: ErrInvalid, Msg: fmt.Sprintf("policy %q is not valid", name), Err: err}
	}
	return nil
}

// CreatePolicy adds a policy.
func (v *Vault) CreatePolicy(ctx context.Context, name string, spec policy.Policy) (Policy, error) {
	if err := checkName("policy", name); err != nil {
		return Policy{}, err
	}
	if err := checkSpec(name, spec); err != nil {
		return Policy{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.Policy(ctx, name); err == nil {
		return Policy{}, refuse(ErrExists, "policy %q already exists in vault %q: change it with \"rewind policy set\" or choose another name", name, v.name)
	}
	now := v.now()
	p := Policy{V: 1, Name: name, Spec: spec, Created: now, Updated: now}
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(policyKey(name), p); err != nil {
		return Policy{}, err
	}
	return p, t.commit()
}

// Policy returns the policy called name.
func (v *Vault) Policy(ctx context.Context, name string) (Policy, error) {
	var p Policy
	found, err := v.cat().getJSON(policyKey(name), &p)
	if err == nil && !found {
		err = notFound("policy %q does not exist in vault %q: see \"rewind policy list --vault %s\"", name, v.name, v.name)
	}
	return p, err
}

// Policies lists the vault's policies by name.
func (v *Vault) Policies(ctx context.Context) ([]Policy, error) {
	return listJSON[Policy](v.cat(), prefPolicy)
}

// UpdatePolicy replaces a policy's schedule and retention and recomputes the
// expiry of every point of the items using it, in one batch. On an immutable
// vault a retention that Shortens the old one is refused (ErrImmutable) and
// no expiry ever moves earlier. Returns the number of points re-expired.
func (v *Vault) UpdatePolicy(ctx context.Context, name string, spec policy.Policy, principal string) (Policy, int, error) {
	if err := checkSpec(name, spec); err != nil {
		return Policy{}, 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	p, err := v.Policy(ctx, name)
	if err != nil {
		return p, 0, err
	}
	s, err := v.Settings()
	if err != nil {
		return p, 0, err
	}
	if s.Immutability.Guarded() && spec.Retention.Shortens(p.Spec.Retention) {
		refusal := refuse(ErrImmutable, "policy %q: vault %q has immutability %s, so retention may be lengthened but not shortened: keep every count at least as long, or create a new policy for new items",
			name, v.name, s.Immutability)
		return p, 0, v.auditRefusal(principal, "update policy "+name, refusal)
	}
	p.Spec, p.Updated = spec, v.now()
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(policyKey(name), p); err != nil {
		return p, 0, err
	}
	n, err := v.reexpirePolicyItems(t, p, s.Immutability.Guarded())
	if err != nil {
		return p, 0, err
	}
	return p, n, t.commit()
}

// reexpirePolicyItems adds to t the re-expired points of every live item on p.
func (v *Vault) reexpirePolicyItems(t *txn, p Policy, guarded bool) (int, error) {
	items, err := v.itemsUsing(p.Name)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, it := range items {
		n, err := v.reexpireItem(t, it.Name, p.Spec, guarded)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// itemsUsing returns the live items bound to policy name.
func (v *Vault) itemsUsing(name string) ([]Item, error) {
	items, err := v.Items(ctx0)
	var out []Item
	for _, it := range items {
		if it.Policy == name && it.State.Live() {
			out = append(out, it)
		}
	}
	return out, err
}

// DeletePolicy removes a policy no live item uses. The default policy cannot
// be deleted.
func (v *Vault) DeletePolicy(ctx context.Context, name string) error {
	if name == DefaultPolicyName {
		return invalid("policy %q cannot be deleted: change it with \"rewind policy set\"", name)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.Policy(ctx, name); err != nil {
		return err
	}
	users, err := v.itemsUsing(name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		names := make([]string, len(users))
		for i, it := range users {
			names[i] = it.Name
		}
		return refuse(ErrConflict, "policy %q is used by items %s: move them to another policy first (rewind item set ITEM --policy P)",
			name, strings.Join(names, ", "))
	}
	t := v.cat().begin()
	defer t.abort()
	if err := t.del(policyKey(name)); err != nil {
		return err
	}
	return t.commit()
}
