package daemon

import (
	"context"
	"net/http"

	"github.com/rewind-backup/rewind/vault"
)

// ItemUpdateRequest is PATCH /v1/items/{item}: the fields given change,
// the others stay. Hooks take "" to remove them; the rates and window use
// the syntax of "vault set"; VaultRates drops the item's own bandwidth so
// it follows the vault's again.
type ItemUpdateRequest struct {
	Policy        *string `json:"policy,omitempty"`
	PreFreeze     *string `json:"pre_freeze,omitempty"`
	PostThaw      *string `json:"post_thaw,omitempty"`
	WorkHoursRate *string `json:"work_hours_rate,omitempty"`
	OffHoursRate  *string `json:"off_hours_rate,omitempty"`
	WorkHours     *string `json:"work_hours,omitempty"`
	VaultRates    bool    `json:"vault_rates,omitempty"`
}

// hUpdateItem changes an item's policy, hooks or bandwidth (admins: hooks
// run as root). Points are re-expired under a new policy; a policy that
// keeps them shorter is refused on an immutable vault (by the vault) and on
// a vault with multi-user approval (here: shorten the policy itself, which
// is held for approval, instead).
func (d *Daemon) hUpdateItem(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	var req ItemUpdateRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	u, err := itemUpdate(v, it, req)
	if err != nil {
		return nil, err
	}
	if err := checkPolicyMove(r.Context(), v, it, req.Policy); err != nil {
		return nil, err
	}
	it, err = v.UpdateItem(r.Context(), it.Name, u, principalName(r))
	if err != nil {
		return nil, err
	}
	d.sched.wake()
	view := viewItem(v.Name(), it, nil)
	view.redactFor(principalFrom(r.Context()))
	return view, nil
}

// itemUpdate turns req into the vault's update of it.
func itemUpdate(v *vault.Vault, it vault.Item, req ItemUpdateRequest) (vault.ItemUpdate, error) {
	u := vault.ItemUpdate{Policy: req.Policy, PreFreeze: req.PreFreeze, PostThaw: req.PostThaw}
	rates := VaultSettingsRequest{WorkHoursRate: req.WorkHoursRate, OffHoursRate: req.OffHoursRate, WorkHours: req.WorkHours}
	changes := rates.WorkHoursRate != nil || rates.OffHoursRate != nil || rates.WorkHours != nil
	switch {
	case req.VaultRates && changes:
		return u, Errf(CodeInvalid, "item %s: give the item's own rates or --vault-rates, not both", it.Name)
	case req.VaultRates:
		var none *vault.Bandwidth
		u.Bandwidth = &none
	case changes:
		base := it.Bandwidth
		if base == nil {
			s, err := v.Settings()
			if err != nil {
				return u, err
			}
			base = &s.Bandwidth
		}
		b, err := bandwidthFrom(*base, rates)
		if err != nil {
			return u, err
		}
		bp := &b
		u.Bandwidth = &bp
	}
	return u, nil
}

// checkPolicyMove refuses moving it to a policy that keeps points shorter
// while the vault has multi-user approval on: that would shorten retention
// without a security admin's approval.
func checkPolicyMove(ctx context.Context, v *vault.Vault, it vault.Item, to *string) error {
	if to == nil || *to == it.Policy {
		return nil
	}
	s, err := v.Settings()
	if err != nil || !s.MultiUserApproval {
		return err
	}
	from, err := v.Policy(ctx, it.Policy)
	if err != nil {
		return err
	}
	next, err := v.Policy(ctx, *to)
	if err != nil {
		return err
	}
	if next.Spec.Retention.Shortens(from.Spec.Retention) {
		return Errf(CodeForbidden, "item %s: policy %q keeps points shorter than %q and vault %q has multi-user approval on: run \"rewind policy set %s\" to shorten the retention (held for a security admin's approval)",
			it.Name, *to, it.Policy, v.Name(), it.Policy)
	}
	return nil
}
