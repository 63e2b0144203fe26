package vault

import (
	"context"
	"time"
)

// DefaultApprovalTTL is how long an approval request stays approvable when
// the daemon does not say otherwise.
const DefaultApprovalTTL = 24 * time.Hour

// Approval request states, as ApprovalState reports them.
const (
	ApprovalPending  = "pending"
	ApprovalApproved = "approved"
	ApprovalRejected = "rejected"
	ApprovalExpired  = "expired"
)

// ApprovalRequest is what CreateApproval stores: Operation is free text the
// daemon understands, Detail its payload, RequesterChain who created the
// requester (nearest first), TTL how long it may be approved (0: the default).
type ApprovalRequest struct {
	Operation      string
	Detail         string
	Requester      string
	RequesterChain []string
	TTL            time.Duration
}

// ExpiresAt is when a stays approvable until.
func (a Approval) ExpiresAt() time.Time {
	if a.Expires.IsZero() {
		return a.Created.Add(DefaultApprovalTTL)
	}
	return a.Expires
}

// State is a's state at now: pending, approved, rejected or expired.
func (a Approval) State(now time.Time) string {
	switch {
	case a.ApprovedBy != "":
		return ApprovalApproved
	case a.RejectedBy != "":
		return ApprovalRejected
	case !now.Before(a.ExpiresAt()):
		return ApprovalExpired
	}
	return ApprovalPending
}

// CreateApproval stores a pending multi-user approval request.
func (v *Vault) CreateApproval(ctx context.Context, req ApprovalRequest) (Approval, error) {
	if req.Operation == "" || req.Requester == "" {
		return Approval{}, invalid("an approval request needs an operation and a requester")
	}
	if req.TTL <= 0 {
		req.TTL = DefaultApprovalTTL
	}
	now := v.now()
	a := Approval{V: 1, ID: v.host.ids.next(idApproval), Operation: req.Operation, Detail: req.Detail,
		Requester: req.Requester, RequesterChain: req.RequesterChain, Created: now, Expires: now.Add(req.TTL)}
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(approveKey(a.ID), a); err != nil {
		return a, err
	}
	if err := v.audit(t, a.Requester, "request approval of "+a.Operation, OutcomeDone, "request "+a.ID); err != nil {
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

// Approvals lists the requests, oldest first; pendingOnly keeps only those
// still approvable now.
func (v *Vault) Approvals(ctx context.Context, pendingOnly bool) ([]Approval, error) {
	all, err := listJSON[Approval](v.cat(), prefApprove)
	if !pendingOnly {
		return all, err
	}
	var out []Approval
	now := v.now()
	for _, a := range all {
		if a.State(now) == ApprovalPending {
			out = append(out, a)
		}
	}
	return out, err
}

// Approve records that by approved request id. The requester cannot approve
// their own request (ErrInvalid); a request that is no longer pending
// (approved, rejected or expired) cannot be approved (ErrConflict). Who else
// may not approve (the requester's creators) is the daemon's rule.
func (v *Vault) Approve(ctx context.Context, id, by string) (Approval, error) {
	if by == "" {
		return Approval{}, invalid("approval of request %s needs the approver's name", id)
	}
	return v.decide(ctx, id, by, "approve", func(a *Approval) error {
		if by == a.Requester {
			return invalid("request %s was made by %s, who cannot approve it: another security admin must run \"rewind approve %s\"", id, by, id)
		}
		a.ApprovedBy, a.Approved = by, v.now()
		return nil
	})
}

// Reject records that by rejected request id (with an optional reason); a
// request that is no longer pending cannot be rejected (ErrConflict).
func (v *Vault) Reject(ctx context.Context, id, by, reason string) (Approval, error) {
	if by == "" {
		return Approval{}, invalid("rejection of request %s needs the name of who rejects it", id)
	}
	return v.decide(ctx, id, by, "reject", func(a *Approval) error {
		a.RejectedBy, a.Rejected, a.Reason = by, v.now(), reason
		return nil
	})
}

// decide applies fn to pending request id under v.mu and commits it with
// an audit record; refusals are audited too.
func (v *Vault) decide(ctx context.Context, id, by, verb string, fn func(*Approval) error) (Approval, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.Approval(ctx, id)
	if err != nil {
		return a, err
	}
	if err := pendingOrRefuse(a, v.now()); err != nil {
		return a, v.auditRefusal(by, verb+" "+a.Operation, err)
	}
	if err := fn(&a); err != nil {
		return a, v.auditRefusal(by, verb+" "+a.Operation, err)
	}
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(approveKey(id), a); err != nil {
		return a, err
	}
	if err := v.audit(t, by, verb+" "+a.Operation, OutcomeDone, "request "+id+" by "+a.Requester); err != nil {
		return a, err
	}
	return a, t.commit()
}

func pendingOrRefuse(a Approval, now time.Time) error {
	switch a.State(now) {
	case ApprovalApproved:
		return refuse(ErrConflict, "request %s was already approved by %s", a.ID, a.ApprovedBy)
	case ApprovalRejected:
		return refuse(ErrConflict, "request %s was rejected by %s", a.ID, a.RejectedBy)
	case ApprovalExpired:
		return refuse(ErrConflict, "request %s expired at %s: the requester must ask again", a.ID, a.ExpiresAt().UTC().Format(time.RFC3339))
	}
	return nil
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
