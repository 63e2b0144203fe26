package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/rewind-backup/rewind/vault"
)

// pendingOp is an approval request's detail: what to carry out once approved.
// Exactly one of Settings, Policy, StopDelete, Restore and Passphrases is set.
type pendingOp struct {
	Vault      string                `json:"vault"`
	Target     string                `json:"target,omitempty"` // policy or item name
	Settings   *VaultSettingsRequest `json:"settings,omitempty"`
	Policy     *PolicyRequest        `json:"policy,omitempty"`
	StopDelete bool                  `json:"stop_delete,omitempty"`
	Restore    *RestoreRequest       `json:"restore,omitempty"`
	// RequesterRoles are the requester's roles when it asked: an approved
	// restore is carried out with them (target rules, privileges), not with
	// the approver's.
	RequesterRoles []Role `json:"requester_roles,omitempty"`
	// Passphrases is a PassphraseChangeRequest sealed with the vault's key.
	Passphrases []byte `json:"sealed_passphrases,omitempty"`
	Summary     string `json:"summary"`
}

// Operation names of approval requests written before the critical list
// (their payload tells what to do; stop-with-delete had none).
const legacyStopDelete = "stop-with-delete"

// guard is the one place critical operations pass through: with ops empty,
// or multi-user approval off on v, it returns nil and the caller goes ahead;
// otherwise it stores an approval request (expiring after approval_ttl) and
// answers approval_required naming it. Callers refuse impossible requests
// before calling guard, so nothing impossible is queued.
func (d *Daemon) guard(ctx context.Context, v *vault.Vault, ops []critical, detail pendingOp) error {
	s, err := v.Settings()
	if err != nil || len(ops) == 0 || !s.MultiUserApproval {
		return err
	}
	p := principalFrom(ctx)
	if p == nil {
		return Errf(CodeUnauthenticated, "a critical operation needs a known principal")
	}
	detail.Vault, detail.Summary = v.Name(), describe(ops)
	if detail.Target != "" {
		detail.Summary += " (" + detail.Target + ")"
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	a, err := v.CreateApproval(ctx, vault.ApprovalRequest{Operation: opNames(ops), Detail: string(b),
		Requester: p.Name, RequesterChain: p.Lineage, TTL: d.cfg.ApprovalTTL.Duration})
	if err != nil {
		return err
	}
	d.log.Info("approval requested", "vault", v.Name(), "request", a.ID, "operation", a.Operation, "by", p.Name)
	return &Error{Code: CodeApprovalRequired, Request: a.ID,
		Message: fmt.Sprintf("%s in vault %q needs a security admin's approval (multi-user approval is on; the request expires at %s)",
			detail.Summary, v.Name(), a.ExpiresAt().UTC().Format("2006-01-02 15:04 MST"))}
}

// mayApprove is the approver rule: a different principal, not created by
// the requester (directly or through tokens it created), and not the
// requester's creator either; within its vault scope.
func mayApprove(p *Principal, a vault.Approval) error {
	switch {
	case p.Name == a.Requester:
		return Errf(CodeForbidden, "request %s was made by %s, who cannot approve it: another security admin must run \"rewind approve %s\"", a.ID, p.Name, a.ID)
	case slices.Contains(p.Lineage, a.Requester):
		return Errf(CodeForbidden, "%s was created by %s (directly or through tokens it created), who made request %s, so it cannot approve it: a security admin independent of the requester must", p.Name, a.Requester, a.ID)
	case slices.Contains(a.RequesterChain, p.Name):
		return Errf(CodeForbidden, "request %s was made by %s, which %s created (directly or through tokens it created), so %s cannot approve it", a.ID, a.Requester, p.Name, p.Name)
	}
	return nil
}

// approvalView is a request as the API shows it.
type approvalView struct {
	vault.Approval
	Vault   string     `json:"vault"`
	State   string     `json:"state"`
	Summary string     `json:"summary"`
	Request *pendingOp `json:"request,omitempty"`
}

func (d *Daemon) viewApproval(vaultName string, a vault.Approval) approvalView {
	view := approvalView{Vault: vaultName, State: a.State(d.now())}
	var op pendingOp
	if err := json.Unmarshal([]byte(a.Detail), &op); err == nil {
		op.Passphrases = nil // sealed, but nobody's business
		view.Request, view.Summary = &op, op.Summary
	}
	a.Detail, a.Expires = "", a.ExpiresAt()
	view.Approval = a
	return view
}

// hApprovals lists the requests of the vaults the caller may see, oldest
// first; ?state=pending|approved|rejected|expired filters them.
func (d *Daemon) hApprovals(r *http.Request) (any, error) {
	ctx, want := r.Context(), r.URL.Query().Get("state")
	out := []approvalView{}
	for _, info := range d.visibleVaults(ctx) {
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		list, err := v.Approvals(ctx, false)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			if view := d.viewApproval(v.Name(), a); want == "" || view.State == want {
				out = append(out, view)
			}
		}
	}
	return out, nil
}

func (d *Daemon) hApproval(r *http.Request) (any, error) {
	v, a, err := d.findApproval(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return d.viewApproval(v.Name(), a), nil
}

// hReject records a security admin's rejection; the request can no longer
// be approved.
func (d *Daemon) hReject(r *http.Request) (any, error) {
	var req RejectRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	v, a, err := d.findApproval(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if a, err = v.Reject(r.Context(), a.ID, principalName(r), req.Reason); err != nil {
		return nil, err
	}
	d.log.Info("approval rejected", "vault", v.Name(), "request", a.ID, "by", a.RejectedBy)
	return d.viewApproval(v.Name(), a), nil
}

// hApprove records the approval (never by the requester or anyone it
// created) and carries the operation out, recorded with both principals.
func (d *Daemon) hApprove(r *http.Request) (any, error) {
	ctx, p := r.Context(), principalFrom(r.Context())
	v, a, err := d.findApproval(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := mayApprove(p, a); err != nil {
		return nil, err
	}
	if err := d.requesterLive(a); err != nil {
		return nil, err
	}
	var op pendingOp
	if err := json.Unmarshal([]byte(a.Detail), &op); err != nil {
		return nil, fmt.Errorf("approval request %s is damaged: %w", a.ID, err)
	}
	if a, err = v.Approve(ctx, a.ID, p.Name); err != nil {
		return nil, err
	}
	d.log.Info("approval granted", "vault", v.Name(), "request", a.ID, "operation", a.Operation, "requester", a.Requester, "by", p.Name)
	if op.Restore != nil {
		return d.carryOutRestore(ctx, v, a, op)
	}
	job, err := v.CreateJob(ctx, vault.Job{Type: jobTypeOf(op), Vault: v.Name(), Item: op.Target,
		RequestedBy: a.Requester, ApprovedBy: []string{p.Name}, Detail: op.Summary})
	if err != nil {
		return nil, err
	}
	res, opErr := d.carryOut(ctx, v, a, op)
	if _, err := v.FinishJob(context.WithoutCancel(ctx), job.ID, opErr); err != nil {
		d.log.Error("record approved job", "job", job.ID, "err", err)
	}
	return res, opErr
}

// requesterLive refuses to carry out a request whose requesting token has
// been revoked since: revoking a token withdraws what it asked for.
func (d *Daemon) requesterLive(a vault.Approval) error {
	id, ok := strings.CutPrefix(a.Requester, "token:")
	if !ok {
		return nil
	}
	if _, err := d.tokens.get(id); err != nil {
		return Errf(CodeConflict, "request %s was made by %s, which has been revoked since: it cannot be carried out (reject it; a live principal asks again)", a.ID, a.Requester)
	}
	return nil
}

// findApproval finds request id in the vaults the caller may see.
func (d *Daemon) findApproval(ctx context.Context, id string) (*vault.Vault, vault.Approval, error) {
	for _, info := range d.visibleVaults(ctx) {
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		if a, err := v.Approval(ctx, id); err == nil {
			return v, a, nil
		}
	}
	return nil, vault.Approval{}, Errf(CodeNotFound, "approval request %q not found: \"rewind approvals\" lists them", id)
}

func jobTypeOf(op pendingOp) vault.JobType {
	switch {
	case op.StopDelete:
		return vault.JobStop
	case op.Policy != nil:
		return vault.JobConfigure
	}
	return vault.JobConfigVault
}

func (d *Daemon) carryOut(ctx context.Context, v *vault.Vault, a vault.Approval, op pendingOp) (any, error) {
	who := a.Requester + " (approved by " + a.ApprovedBy + ")"
	switch {
	case op.Settings != nil:
		return d.applySettings(ctx, v, *op.Settings, who)
	case op.Policy != nil:
		return d.applyPolicy(ctx, v, op.Target, *op.Policy, who)
	case op.Passphrases != nil:
		return d.carryOutPassphrase(ctx, v, op.Passphrases, who)
	case op.StopDelete || a.Operation == legacyStopDelete:
		it, err := v.StopProtection(ctx, op.Target, true, who)
		return viewItem(v.Name(), it, nil), err
	}
	return nil, fmt.Errorf("approval request %s has an operation this daemon does not know: %q", a.ID, a.Operation)
}

// carryOutRestore queues the approved restore as its own job, which names
// both principals.
func (d *Daemon) carryOutRestore(ctx context.Context, v *vault.Vault, a vault.Approval, op pendingOp) (any, error) {
	it, err := v.Item(ctx, op.Target)
	if err != nil {
		return nil, err
	}
	ctx = withPrincipal(ctx, &Principal{Name: a.Requester, Roles: op.RequesterRoles})
	return d.queueRestore(ctx, v, it, *op.Restore, vault.Job{RequestedBy: a.Requester, ApprovedBy: []string{a.ApprovedBy}})
}

// principalRoles returns the caller's roles (none when unknown).
func principalRoles(ctx context.Context) []Role {
	if p := principalFrom(ctx); p != nil {
		return p.Roles
	}
	return nil
}
