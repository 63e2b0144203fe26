package daemon

import "time"

// Request bodies of the API (API.md documents each endpoint). Policy fields
// are the CLI's own syntax, parsed and validated by the daemon so every client
// gets the same errors.

// CreateVaultRequest is POST /v1/vaults.
type CreateVaultRequest struct {
	Name                 string   `json:"name"`
	Passphrase           string   `json:"passphrase"`
	Shards               []string `json:"shards,omitempty"`
	DataShards           int      `json:"data_shards,omitempty"`
	ParityShards         int      `json:"parity_shards,omitempty"`
	AllowUnsafePlacement bool     `json:"allow_unsafe_placement,omitempty"`
}

// UnlockRequest is POST /v1/vaults/{vault}/unlock.
type UnlockRequest struct {
	Passphrase string `json:"passphrase"`
	// KeyFile, when set, unlocks with the vault's key file ("vault key
	// export") instead of the passphrase.
	KeyFile []byte `json:"key_file,omitempty"`
}

// VaultSettingsRequest is PATCH /v1/vaults/{vault}; nil fields stay unchanged.
type VaultSettingsRequest struct {
	SoftDeleteDays    *int    `json:"soft_delete_days,omitempty"`
	Immutability      *string `json:"immutability,omitempty"`
	MultiUserApproval *bool   `json:"multi_user_approval,omitempty"`
	WorkHoursRate     *string `json:"work_hours_rate,omitempty"`
	OffHoursRate      *string `json:"off_hours_rate,omitempty"`
	WorkHours         *string `json:"work_hours,omitempty"`
	TZ                *string `json:"tz,omitempty"`
}

// PolicyRequest is POST /v1/vaults/{vault}/policies and PATCH …/{policy}.
type PolicyRequest struct {
	Name        string `json:"name,omitempty"`
	Daily       string `json:"daily,omitempty"`
	Weekly      string `json:"weekly,omitempty"`
	TZ          string `json:"tz,omitempty"`
	KeepDaily   string `json:"keep_daily,omitempty"`
	KeepWeekly  string `json:"keep_weekly,omitempty"`
	KeepMonthly string `json:"keep_monthly,omitempty"`
	KeepYearly  string `json:"keep_yearly,omitempty"`
}

// ItemRequest is POST /v1/vaults/{vault}/items.
type ItemRequest struct {
	Name          string `json:"name"`
	Policy        string `json:"policy,omitempty"`
	Disk          string `json:"disk,omitempty"`
	Bitmap        string `json:"bitmap,omitempty"`
	ChangedBlocks string `json:"changed_blocks,omitempty"`
	Share         string `json:"share,omitempty"`
	PreFreeze     string `json:"pre_freeze,omitempty"`
	PostThaw      string `json:"post_thaw,omitempty"`
	FSFreeze      bool   `json:"fsfreeze,omitempty"`
	// OneFileSystem (shares) keeps backups on the share's file system;
	// nil means yes. Exclude and ExcludeIfPresent: see vault.Source.
	OneFileSystem    *bool    `json:"one_file_system,omitempty"`
	Exclude          []string `json:"exclude,omitempty"`
	ExcludeIfPresent []string `json:"exclude_if_present,omitempty"`
	// WorkHoursRate and OffHoursRate override the vault's bandwidth limits
	// for this item (same syntax as "vault set"); WorkHours its window.
	WorkHoursRate string `json:"work_hours_rate,omitempty"`
	OffHoursRate  string `json:"off_hours_rate,omitempty"`
	WorkHours     string `json:"work_hours,omitempty"`
}

// StopRequest is POST /v1/items/{item}/stop.
type StopRequest struct {
	DeleteData bool `json:"delete_data"`
}

// BackupRequest is POST /v1/items/{item}/backup.
type BackupRequest struct {
	RetainUntil   *time.Time `json:"retain_until,omitempty"`
	ChangedBlocks string     `json:"changed_blocks,omitempty"`
}

// RestoreRequest is POST /v1/items/{item}/restore.
type RestoreRequest struct {
	Kind     string   `json:"kind"` // disk, files or share
	Point    string   `json:"point"`
	To       string   `json:"to,omitempty"`
	Force    bool     `json:"force,omitempty"`
	Verify   bool     `json:"verify,omitempty"`
	Format   string   `json:"format,omitempty"`
	Paths    []string `json:"paths,omitempty"`
	Volume   string   `json:"volume,omitempty"`
	Original bool     `json:"original,omitempty"`
	Conflict string   `json:"conflict,omitempty"`
	// KeepPrivileges (admin only, files from a disk point) keeps the
	// guest's owners, setuid/setgid bits, security.capability and device
	// nodes; without it they are dropped and the job warns with counts.
	KeepPrivileges bool `json:"keep_privileges,omitempty"`
}

// MountRequest is POST /v1/mounts.
type MountRequest struct {
	Mountpoint string `json:"mountpoint"`
	Vault      string `json:"vault,omitempty"`
	Item       string `json:"item,omitempty"`
	Point      string `json:"point,omitempty"`
	Expire     string `json:"expire,omitempty"`
	AllowOther bool   `json:"allow_other,omitempty"`
}

// MaintenanceRequest is POST /v1/vaults/{vault}/verify, …/gc and …/repair.
type MaintenanceRequest struct {
	ReadData bool `json:"read_data,omitempty"`
}

// TokenRequest is POST /v1/tokens. Vaults, when given, confines the token
// to those vaults.
type TokenRequest struct {
	Role   string   `json:"role"`
	Vaults []string `json:"vaults,omitempty"`
}

// RejectRequest is POST /v1/approvals/{id}/reject.
type RejectRequest struct {
	Reason string `json:"reason,omitempty"`
}

// TokenCreated is the reply to POST /v1/tokens; Secret is shown only here.
type TokenCreated struct {
	TokenInfo
	Secret string `json:"secret"`
}

// MountInfo describes one active mount.
type MountInfo struct {
	Mountpoint string    `json:"mountpoint"`
	Vault      string    `json:"vault,omitempty"`
	Item       string    `json:"item,omitempty"`
	Point      string    `json:"point,omitempty"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
	Owner      string    `json:"owner,omitempty"` // the principal that mounted it
}
