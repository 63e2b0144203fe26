package vault

import (
	"context"
	"fmt"
)

// Settings returns the vault's settings.
func (v *Vault) Settings() (Settings, error) {
	var s Settings
	found, err := v.cat().getJSON(keySettings, &s)
	if err == nil && !found {
		err = fmt.Errorf("vault %q has no settings record: %w", v.name, ErrNotFound)
	}
	return s, err
}

// updateSettings runs fn on the settings under v.mu and commits them with an
// audit record. A refusal from fn is audited and returned.
func (v *Vault) updateSettings(principal, action string, fn func(*Settings) error) (Settings, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, err := v.Settings()
	if err != nil {
		return s, err
	}
	old := s
	if err := fn(&s); err != nil {
		return old, v.auditRefusal(principal, action, err)
	}
	s.Updated = v.now()
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(keySettings, s); err != nil {
		return old, err
	}
	if err := v.audit(t, principal, action, OutcomeDone, describeChange(old, s)); err != nil {
		return old, err
	}
	return s, t.commit()
}

func describeChange(a, b Settings) string {
	return fmt.Sprintf("soft-delete %d→%d days, immutability %s→%s, multi-user approval %v→%v",
		a.SoftDeleteDays, b.SoftDeleteDays, a.Immutability, b.Immutability, a.MultiUserApproval, b.MultiUserApproval)
}

// SetSoftDeleteDays sets the soft-delete period: 14–180 days, or 0 to
// disable soft delete, allowed only while immutability is off (disabling is a
// critical operation; the daemon may require approval first). Items already
// soft-deleted keep their purge time. Every attempt is audited.
func (v *Vault) SetSoftDeleteDays(ctx context.Context, days int, principal string) (Settings, error) {
	return v.updateSettings(principal, "set soft-delete days", v.softDeleteRule(days))
}

func (v *Vault) softDeleteRule(days int) func(*Settings) error {
	return func(s *Settings) error {
		if days == 0 && s.Immutability.Guarded() {
			return refuse(ErrImmutable, "vault %q has immutability %s, so soft delete cannot be disabled: keep %d–%d days",
				v.name, s.Immutability, MinSoftDeleteDays, MaxSoftDeleteDays)
		}
		if days != 0 && (days < MinSoftDeleteDays || days > MaxSoftDeleteDays) {
			return invalid("soft-delete period %d days is out of range: use %d–%d days, or 0 to disable it (only while immutability is off)",
				days, MinSoftDeleteDays, MaxSoftDeleteDays)
		}
		s.SoftDeleteDays = days
		return nil
	}
}

// SetImmutability changes the immutability state. off↔on and off/on→locked
// are allowed; locked is irreversible and every attempt to leave it is
// refused (ErrImmutable) and audited. Turning it on needs soft delete on.
func (v *Vault) SetImmutability(ctx context.Context, m Immutability, principal string) (Settings, error) {
	return v.updateSettings(principal, "set immutability "+string(m), v.immutabilityRule(m))
}

func (v *Vault) immutabilityRule(m Immutability) func(*Settings) error {
	return func(s *Settings) error {
		switch {
		case m != ImmutabilityOff && m != ImmutabilityOn && m != ImmutabilityLocked:
			return invalid("immutability %q is unknown: use off, on or locked", m)
		case s.Immutability == ImmutabilityLocked && m != ImmutabilityLocked:
			return refuse(ErrImmutable, "vault %q has locked immutability, which cannot be turned %s: it is irreversible by design", v.name, m)
		case m.Guarded() && s.SoftDeleteDays == 0:
			return invalid("vault %q has soft delete disabled: enable it first (rewind vault set %s --soft-delete-days %d)", v.name, v.name, DefaultSoftDeleteDays)
		}
		s.Immutability = m
		return nil
	}
}

// SettingsChange names settings to change; nil fields stay as they are.
// Changes apply in field order (soft delete, then immutability, then
// multi-user approval), as the daemon applies them.
type SettingsChange struct {
	SoftDeleteDays    *int
	Immutability      *Immutability
	MultiUserApproval *bool
}

// CheckSettings reports, without changing anything, the error applying c to
// the current settings would give: the daemon refuses an impossible change at
// once instead of queueing it for approval.
func (v *Vault) CheckSettings(c SettingsChange) error {
	s, err := v.Settings()
	if err != nil {
		return err
	}
	if c.SoftDeleteDays != nil {
		if err := v.softDeleteRule(*c.SoftDeleteDays)(&s); err != nil {
			return err
		}
	}
	if c.Immutability != nil {
		return v.immutabilityRule(*c.Immutability)(&s)
	}
	return nil
}

// SetMultiUserApproval turns the multi-user approval requirement on or off
// (the daemon decides which operations need approval). Audited.
func (v *Vault) SetMultiUserApproval(ctx context.Context, on bool, principal string) (Settings, error) {
	return v.updateSettings(principal, fmt.Sprintf("set multi-user approval %v", on), func(s *Settings) error {
		s.MultiUserApproval = on
		return nil
	})
}

// SetBandwidth sets the vault's throttling; see Bandwidth.Validate.
func (v *Vault) SetBandwidth(ctx context.Context, b Bandwidth, principal string) (Settings, error) {
	return v.updateSettings(principal, "set bandwidth", func(s *Settings) error {
		if err := b.Validate(); err != nil {
			return err
		}
		s.Bandwidth = b
		return nil
	})
}
