package vault

import (
	"context"
)

// CreateApproval stores a pending multi-user approval request for operation
// (free text the daemon understands, with detail) asked by requester.
func (v *Vault) CreateApproval(ctx context.Context, operation, detail, requester string) (Approval, error) {
	if operation == "" || requester == "" {
		return Approval{}, invalid("an approval request needs an operation and a requester")
	}
	a := Approval{V: 1, ID: v.host.ids.next(idApproval), Operation: operation, Detail: detail,
		Requester: requester, Created: v.now()}
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(approveKey(a.ID), a); err != nil {
		return a, err
	}
	return a, t.commit()
}

// Approval returns one request.
func (v *Vault) Approval(ctx context.Context, id string) (Approval, error) {
	var a Approval
	found, err := v.cat().getJSON(approveKey(id), &a)
	if err == nil && !found {
		err = notFound("approval request %q does not exist in vault %q", id, v.name)
	}
	return a, err
}

// Approvals lists the requests, oldest first; pendingOnly drops approved ones.
func (v *Vault) Approvals(ctx context.Context, pendingOnly bool) ([]Approval, error) {
	all, err := listJSON[Approval](v.cat(), prefApprove)
	if !pendingOnly {
		return all, err
	}
	var out []Approval
	for _, a := range all {
		if a.ApprovedBy == "" {
			out = append(out, a)
		}
	}
	return out, err
}

// Approve records that by approved request id. The requester cannot approve
// their own request (ErrInvalid); an approved request cannot be approved
// again (ErrConflict).
func (v *Vault) Approve(ctx context.Context, id, by string) (Approval, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.Approval(ctx, id)
	if err != nil {
		return a, err
	}
	switch {
	case by == "":
		return a, invalid("approval of request %s needs the approver's name", id)
	case by == a.Requester:
		return a, invalid("request %s was made by %s, who cannot approve it: another user must run \"rewind approve %s\"", id, by, id)
	case a.ApprovedBy != "":
		return a, refuse(ErrConflict, "request %s was already approved by %s", id, a.ApprovedBy)
	}
	a.ApprovedBy, a.Approved = by, v.now()
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(approveKey(id), a); err != nil {
		return a, err
	}
	if err := v.audit(t, by, "approve "+a.Operation, OutcomeDone, "request "+id+" by "+a.Requester); err != nil {
		return a, err
	}
	return a, t.commit()
}

// DeleteApproval removes a request (done, expired or withdrawn).
func (v *Vault) DeleteApproval(ctx context.Context, id string) error {
	if _, err := v.Approval(ctx, id); err != nil {
		return err
	}
	t := v.cat().begin()
	defer t.abort()
	if err := t.del(approveKey(id)); err != nil {
		return err
	}
	return t.commit()
}
