package daemon

import (
	"context"
	"errors"
	"net/http"

	"github.com/rewind-backup/rewind/policy"
	"github.com/rewind-backup/rewind/vault"
)

// policyView is a policy as the API shows it, with a one-line summary.
type policyView struct {
	vault.Policy
	Summary string `json:"summary"`
}

// viewPolicy adds the one-line summary, e.g. "daily at 22:30 (UTC), keep:
// daily 30 days; weekly (Sunday) 8 weeks".
func viewPolicy(p vault.Policy) policyView {
	return policyView{Policy: p, Summary: p.Spec.Schedule.String() + ", keep: " + p.Spec.Retention.String()}
}

// buildPolicy turns the CLI's flags into a policy, starting from base (nil
// for a new policy: then a schedule and at least one tier are required).
func buildPolicy(req PolicyRequest, base *policy.Policy) (policy.Policy, error) {
	var p policy.Policy
	if base != nil {
		p = *base
	}
	if err := buildSchedule(req, &p); err != nil {
		return p, err
	}
	if err := buildRetention(req, &p.Retention); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, Errf(CodeInvalid, "%v", err)
	}
	return p, nil
}

func buildSchedule(req PolicyRequest, p *policy.Policy) error {
	var err error
	switch {
	case req.Daily != "" && req.Weekly != "":
		return Errf(CodeInvalid, "give --daily or --weekly, not both")
	case req.Daily != "":
		p.Schedule, err = policy.ParseDaily(req.Daily)
	case req.Weekly != "":
		p.Schedule, err = policy.ParseWeekly(req.Weekly)
	case p.Schedule.Kind == "":
		return Errf(CodeInvalid, "a policy needs a schedule: --daily HH:MM[,HH:MM…] or --weekly DAY[,DAY…]@HH:MM[,…]")
	}
	if err != nil {
		return Errf(CodeInvalid, "%v", err)
	}
	if req.TZ != "" || req.Daily != "" || req.Weekly != "" {
		zone, err := policy.ParseZone(req.TZ)
		if err != nil {
			return Errf(CodeInvalid, "%v", err)
		}
		if req.TZ != "" || p.Schedule.Zone == "" {
			p.Schedule.Zone = zone
		}
	}
	return nil
}

// buildRetention applies req's keep flags to r: a flag left empty keeps
// the tier as it is, "0" or "none" drops it (policy set), anything else
// replaces it.
func buildRetention(req PolicyRequest, r *policy.Retention) error {
	return errors.Join(
		keepTier(req.KeepDaily, &r.Daily, policy.ParseKeepDaily),
		keepTier(req.KeepWeekly, &r.Weekly, policy.ParseKeepWeekly),
		keepTier(req.KeepMonthly, &r.Monthly, policy.ParseKeepMonthly),
		keepTier(req.KeepYearly, &r.Yearly, policy.ParseKeepYearly))
}

func keepTier[T any](spec string, dst **T, parse func(string) (*T, error)) error {
	switch spec {
	case "":
		return nil
	case "0", "none":
		*dst = nil
		return nil
	}
	t, err := parse(spec)
	if err != nil {
		return Errf(CodeInvalid, "%v", err)
	}
	*dst = t
	return nil
}

func (d *Daemon) hPolicies(r *http.Request) (any, error) {
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, err
	}
	list, err := v.Policies(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]policyView, len(list))
	for i, p := range list {
		out[i] = viewPolicy(p)
	}
	return out, nil
}

func (d *Daemon) hPolicy(r *http.Request) (any, error) {
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, err
	}
	p, err := v.Policy(r.Context(), r.PathValue("policy"))
	if err != nil {
		return nil, err
	}
	return viewPolicy(p), nil
}

func (d *Daemon) hCreatePolicy(r *http.Request) (any, error) {
	v, req, err := vaultRequest[PolicyRequest](d, r)
	if err != nil {
		return nil, err
	}
	spec, err := buildPolicy(req, nil)
	if err != nil {
		return nil, err
	}
	p, err := v.CreatePolicy(r.Context(), req.Name, spec)
	if err != nil {
		return nil, err
	}
	return viewPolicy(p), nil
}

// hUpdatePolicy changes a policy; shortening retention is a critical
// operation (and refused outright on an immutable vault).
func (d *Daemon) hUpdatePolicy(r *http.Request) (any, error) {
	v, req, err := vaultRequest[PolicyRequest](d, r)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("policy")
	cur, spec, err := planPolicy(r.Context(), v, name, req)
	if err != nil {
		return nil, err
	}
	if s, _ := v.Settings(); spec.Retention.Shortens(cur.Retention) && !s.Immutability.Guarded() {
		// (on an immutable vault storePolicy refuses the shortening at once)
		if err := d.guard(r.Context(), v, []critical{critRetentionShorten}, pendingOp{Target: name, Policy: &req}); err != nil {
			return nil, err
		}
	}
	return d.storePolicy(r.Context(), v, name, spec, principalName(r))
}

// planPolicy is the policy req would make of policy name as it is now.
func planPolicy(ctx context.Context, v *vault.Vault, name string, req PolicyRequest) (policy.Policy, policy.Policy, error) {
	cur, err := v.Policy(ctx, name)
	if err != nil {
		return policy.Policy{}, policy.Policy{}, err
	}
	spec, err := buildPolicy(req, &cur.Spec)
	return cur.Spec, spec, err
}

// applyPolicy carries out an approved change against the policy as it is at
// approval time.
func (d *Daemon) applyPolicy(ctx context.Context, v *vault.Vault, name string, req PolicyRequest, who string) (any, error) {
	_, spec, err := planPolicy(ctx, v, name, req)
	if err != nil {
		return nil, err
	}
	return d.storePolicy(ctx, v, name, spec, who)
}

func (d *Daemon) storePolicy(ctx context.Context, v *vault.Vault, name string, spec policy.Policy, who string) (any, error) {
	p, _, err := v.UpdatePolicy(ctx, name, spec, who)
	if err != nil {
		return nil, err
	}
	d.sched.wake()
	return viewPolicy(p), nil
}

func (d *Daemon) hDeletePolicy(r *http.Request) (any, error) {
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, err
	}
	if err := v.DeletePolicy(r.Context(), r.PathValue("policy")); err != nil {
		return nil, err
	}
	return map[string]string{"deleted": r.PathValue("policy")}, nil
}
