package vault

import "time"

// Source kinds; they key the RefWalkers given to Sweep.
const (
	KindDisk  = "disk"
	KindShare = "share"
)

// Source is what an item protects: a disk (Spec is the source string, e.g. a
// file, device, qcow2 path or nbd:// URL; Bitmap and ChangedBlocks optional)
// or a share (Path).
type Source struct {
	Kind          string `json:"kind"`
	Spec          string `json:"spec,omitempty"`
	Bitmap        string `json:"bitmap,omitempty"`
	ChangedBlocks string `json:"changed_blocks,omitempty"`
	Path          string `json:"path,omitempty"`
	// FSFreeze allows freezing the share's file system (FIFREEZE) for a
	// file-system-consistent point when no pre-freeze hook succeeds.
	FSFreeze bool `json:"fsfreeze,omitempty"`
	// OneFileSystem keeps a share backup on the share's own file system
	// (mount points below it are recorded empty). New items get it unless
	// asked not to; items added before it existed cross file systems.
	OneFileSystem bool `json:"one_file_system,omitempty"`
	// Exclude holds gitignore-style patterns (from the share root) left out
	// of every backup; ExcludeIfPresent names tag files whose directories
	// are left out.
	Exclude          []string `json:"exclude,omitempty"`
	ExcludeIfPresent []string `json:"exclude_if_present,omitempty"`
}

func (s Source) validate() error {
	switch s.Kind {
	case KindDisk:
		if s.Spec == "" || s.Path != "" {
			return invalid("a disk source needs its source spec (and no share path): give --disk SOURCE")
		}
	case KindShare:
		if s.Path == "" || s.Spec != "" || s.Bitmap != "" || s.ChangedBlocks != "" {
			return invalid("a share source needs its path (and no disk options): give --share DIR")
		}
	default:
		return invalid("source kind %q is unknown: use %q or %q", s.Kind, KindDisk, KindShare)
	}
	return nil
}

// ItemState is where an item is in its life.
//
//	pending ──first point──▶ protected ──stop──▶ stopped ──resume──▶ protected (or pending)
//	   │                        │                  │
//	   └──────────stop --delete-data───────────────┴──▶ deleted (soft) ──period over──▶ purged
//	                                                      └──undelete──▶ stopped
//
// Stop with delete data when soft delete is disabled goes straight to purged.
type ItemState string

const (
	StatePending   ItemState = "protection-pending"
	StateProtected ItemState = "protected"
	StateStopped   ItemState = "protection-stopped"         // data retained
	StateDeleted   ItemState = "protection-stopped-deleted" // soft-deleted, purged at PurgeAt
	StatePurged    ItemState = "purged"
)

// Live reports whether the item's points are kept (everything but purged).
func (s ItemState) Live() bool { return s != StatePurged }

// Item is a protected item (key v/it/<name>).
type Item struct {
	V         int        `json:"v"`
	Name      string     `json:"name"`
	Source    Source     `json:"source"`
	Policy    string     `json:"policy"`
	PreFreeze string     `json:"pre_freeze,omitempty"`
	PostThaw  string     `json:"post_thaw,omitempty"`
	Bandwidth *Bandwidth `json:"bandwidth,omitempty"`
	State     ItemState  `json:"state"`
	Created   time.Time  `json:"created"`
	Updated   time.Time  `json:"updated"`
	StoppedAt time.Time  `json:"stopped_at,omitzero"`
	DeletedAt time.Time  `json:"deleted_at,omitzero"`
	PurgeAt   time.Time  `json:"purge_at,omitzero"`
	PurgedAt  time.Time  `json:"purged_at,omitzero"`
}

// ItemSpec is what AddItem takes.
type ItemSpec struct {
	Name      string
	Source    Source
	Policy    string // "" = "default"
	PreFreeze string
	PostThaw  string
	Bandwidth *Bandwidth
}

// ItemUpdate changes an item's settings; nil fields are left alone. The
// source kind cannot change (add a new item instead).
type ItemUpdate struct {
	Policy    *string
	Source    *Source
	PreFreeze *string
	PostThaw  *string
	Bandwidth **Bandwidth // set to a nil *Bandwidth to remove the override
}
