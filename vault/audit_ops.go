package vault

import (
	"context"
	"strings"
)

// audit adds an audit record to t.
func (v *Vault) audit(t *txn, principal, action, outcome, detail string) error {
	rec := AuditRecord{V: 1, ID: v.host.ids.next(idAudit), Time: v.now(), Principal: principal,
		Action: action, Outcome: outcome, Detail: detail}
	return t.put(auditKey(rec.ID), rec)
}

// auditNow commits one audit record on its own (for refusals, which write
// nothing else) and returns refusal unchanged.
func (v *Vault) auditRefusal(principal, action string, refusal error) error {
	t := v.cat().begin()
	defer t.abort()
	if err := v.audit(t, principal, action, OutcomeRefused, refusal.Error()); err != nil {
		return err
	}
	if err := t.commit(); err != nil {
		return err
	}
	return refusal
}

// Audit lists the audit records, oldest first.
func (v *Vault) Audit(ctx context.Context) ([]AuditRecord, error) {
	return listJSON[AuditRecord](v.cat(), prefAudit)
}

// seedIDs makes the host's id generator continue after the ids in the catalog.
func (v *Vault) seedIDs() error {
	for _, p := range []string{prefJob, prefAudit, prefApprove} {
		key, err := v.cat().last(p)
		if err != nil {
			return err
		}
		v.host.ids.observe(strings.TrimPrefix(key, p))
	}
	return nil
}
