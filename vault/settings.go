package vault

import "time"

// Immutability is a vault's deletion guard: off, on, or locked (irreversible).
type Immutability string

const (
	ImmutabilityOff    Immutability = "off"
	ImmutabilityOn     Immutability = "on"
	ImmutabilityLocked Immutability = "locked"
)

// Guarded reports whether points are protected from early deletion.
func (m Immutability) Guarded() bool { return m == ImmutabilityOn || m == ImmutabilityLocked }

// Soft-delete period bounds in days. 0 disables soft delete and is allowed
// only while immutability is off.
const (
	DefaultSoftDeleteDays = 14
	MinSoftDeleteDays     = 14
	MaxSoftDeleteDays     = 180
)

// Settings are a vault's adjustable options (key v/set).
type Settings struct {
	V                 int          `json:"v"`
	SoftDeleteDays    int          `json:"soft_delete_days"`
	Immutability      Immutability `json:"immutability"`
	MultiUserApproval bool         `json:"multi_user_approval"`
	Bandwidth         Bandwidth    `json:"bandwidth"`
	Updated           time.Time    `json:"updated"`
}

func defaultSettings(now time.Time) Settings {
	return Settings{
		V:              1,
		SoftDeleteDays: DefaultSoftDeleteDays,
		Immutability:   ImmutabilityOff,
		Updated:        now,
	}
}

// SoftDeletePeriod is the soft-delete period as a duration (0 = disabled).
func (s Settings) SoftDeletePeriod() time.Duration {
	return time.Duration(s.SoftDeleteDays) * 24 * time.Hour
}
