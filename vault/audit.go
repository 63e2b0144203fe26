package vault

import "time"

// AuditRecord notes a security-relevant request: every immutability and
// soft-delete change and every refused attempt (key v/au/<id>).
type AuditRecord struct {
	V         int       `json:"v"`
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Principal string    `json:"principal,omitempty"`
	Action    string    `json:"action"`
	Outcome   string    `json:"outcome"` // "done" or "refused"
	Detail    string    `json:"detail,omitempty"`
}

// Audit outcomes.
const (
	OutcomeDone    = "done"
	OutcomeRefused = "refused"
)

// Approval is a pending or decided multi-user approval request (key
// v/ap/<id>). The daemon runs the flow; the catalog stores it.
type Approval struct {
	V          int       `json:"v"`
	ID         string    `json:"id"`
	Operation  string    `json:"operation"`
	Detail     string    `json:"detail,omitempty"`
	Requester  string    `json:"requester"`
	Created    time.Time `json:"created"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	Approved   time.Time `json:"approved,omitzero"`
	// RequesterChain is who created the requester, nearest first (a token's
	// creator, that creator's creator…): none of them may approve.
	RequesterChain []string `json:"requester_chain,omitempty"`
	// Expires is when the request stops being approvable (zero in records
	// written before expiry existed: Created + DefaultApprovalTTL).
	Expires    time.Time `json:"expires,omitzero"`
	RejectedBy string    `json:"rejected_by,omitempty"`
	Rejected   time.Time `json:"rejected,omitzero"`
	Reason     string    `json:"reason,omitempty"`
}
