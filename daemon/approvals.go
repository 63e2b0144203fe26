package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/rewind-backup/rewind/vault"
)

// Critical operations that need a second principal's approval when the vault
// has multi-user approval on.
const (
	opVaultSettings = "vault-settings"
	opPolicyChange  = "policy-change"
	opStopDelete    = "stop-with-delete"
)

// pendingOp is an approval request's detail: what to carry out once approved.
type pendingOp struct {
	Vault    string                `json:"vault"`
	Target   string                `json:"target,omitempty"` // policy or item name
	Settings *VaultSettingsRequest `json:"settings,omitempty"`
	Policy   *PolicyRequest        `json:"policy,omitempty"`
	Summary  string                `json:"summary"`
}

// needApproval returns nil when the vault does not ask for approvals, else
// stores the request and answers approval_required naming it.
func (d *Daemon) needApproval(ctx context.Context, v *vault.Vault, op, summary, who string, detail pendingOp) error {
	s, err := v.Settings()
	if err != nil || !s.MultiUserApproval {
		return err
	}
	detail.Vault, detail.Summary = v.Name(), summary
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	a, err := v.CreateApproval(ctx, op, string(b), who)
	if err != nil {
		return err
	}
	d.log.Info("approval requested", "vault", v.Name(), "request", a.ID, "operation", op, "by", who)
	return &Error{Code: CodeApprovalRequired, Request: a.ID,
		Message: fmt.Sprintf("%s in vault %q needs a second approval (multi-user approval is on)", summary, v.Name())}
}

func (d *Daemon) hApprovals(r *http.Request) (any, error) {
	var out []vault.Approval
	for _, info := range d.host.List(r.Context()) {
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		list, err := v.Approvals(r.Context(), true)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// hApprove records the approval (never by the requester) and carries the
// operation out as a job that names both principals.
func (d *Daemon) hApprove(r *http.Request) (any, error) {
	ctx, id, who := r.Context(), r.PathValue("id"), principalName(r)
	v, a, err := d.findApproval(ctx, id)
	if err != nil {
		return nil, err
	}
	var op pendingOp
	if err := json.Unmarshal([]byte(a.Detail), &op); err != nil {
		return nil, fmt.Errorf("approval request %s is damaged: %w", id, err)
	}
	if a, err = v.Approve(ctx, id, who); err != nil {
		return nil, err
	}
	job, err := v.CreateJob(ctx, vault.Job{Type: jobTypeOf(a.Operation), Vault: v.Name(), Item: op.Target,
		RequestedBy: a.Requester, ApprovedBy: []string{who}, Detail: op.Summary})
	if err != nil {
		return nil, err
	}
	res, opErr := d.carryOut(ctx, v, a, op)
	if _, err := v.FinishJob(context.WithoutCancel(ctx), job.ID, opErr); err != nil {
		d.log.Error("record approved job", "job", job.ID, "err", err)
	}
	if opErr != nil {
		return nil, opErr
	}
	return res, nil
}

func (d *Daemon) findApproval(ctx context.Context, id string) (*vault.Vault, vault.Approval, error) {
	for _, info := range d.host.List(ctx) {
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		if a, err := v.Approval(ctx, id); err == nil {
			return v, a, nil
		}
	}
	return nil, vault.Approval{}, Errf(CodeNotFound, "approval request %q not found: \"rewind approvals\" lists pending ones", id)
}

func jobTypeOf(op string) vault.JobType {
	switch op {
	case opStopDelete:
		return vault.JobStop
	case opPolicyChange:
		return vault.JobConfigure
	}
	return vault.JobConfigVault
}

func (d *Daemon) carryOut(ctx context.Context, v *vault.Vault, a vault.Approval, op pendingOp) (any, error) {
	who := a.Requester + " (approved by " + a.ApprovedBy + ")"
	switch a.Operation {
	case opVaultSettings:
		if op.Settings != nil {
			return d.applySettings(ctx, v, *op.Settings, who)
		}
	case opPolicyChange:
		if op.Policy != nil {
			return d.applyPolicy(ctx, v, op.Target, *op.Policy, who)
		}
	case opStopDelete:
		it, err := v.StopProtection(ctx, op.Target, true, who)
		return viewItem(v.Name(), it, nil), err
	}
	return nil, fmt.Errorf("approval request %s has an operation this daemon does not know: %q", a.ID, a.Operation)
}
