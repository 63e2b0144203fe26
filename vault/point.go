package vault

import (
	"encoding/json"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/policy"
)

// PointKind says whether a point was captured whole or as changes.
type PointKind string

const (
	Full        PointKind = "full"
	Incremental PointKind = "incremental"
)

// Consistency is the level a backup reached, best first.
type Consistency string

const (
	ConsistencyApplication Consistency = "application"
	ConsistencyFileSystem  Consistency = "file-system"
	ConsistencyCrash       Consistency = "crash"
)

// PointIDLayout formats point ids: RFC 3339, UTC, second precision.
const PointIDLayout = "2006-01-02T15:04:05Z"

// Point is an immutable recovery point record (key v/pt/<item>/<id>). Only
// Tiers and Expiry change afterwards, when the item's policy changes.
type Point struct {
	V                 int           `json:"v"`
	ID                string        `json:"id"` // Time formatted with PointIDLayout
	Time              time.Time     `json:"time"`
	Item              string        `json:"item"`
	Kind              PointKind     `json:"kind"`
	Consistency       Consistency   `json:"consistency"`
	ConsistencyReason string        `json:"consistency_reason,omitempty"` // why a higher level failed
	SourceBytes       int64         `json:"source_bytes"`
	BytesRead         int64         `json:"bytes_read"`
	BytesStored       int64         `json:"bytes_stored"` // newly stored (after dedup and compression)
	Root              blockstore.ID `json:"root"`
	SourceState       string        `json:"source_state,omitempty"` // opaque, e.g. a dirty-bitmap generation
	Chain             []ChainFile   `json:"chain,omitempty"`        // qcow2 sources: the files read (absent before chains were recorded)
	OnDemand          bool          `json:"on_demand,omitempty"`
	RetainUntil       time.Time     `json:"retain_until,omitzero"` // on-demand points
	Tiers             []policy.Tier `json:"tiers,omitempty"`
	Expiry            time.Time     `json:"expiry,omitzero"` // zero = never expires
	Warnings          int           `json:"warnings"`
	Job               string        `json:"job,omitempty"`
}

// ChainFile is one file of a qcow2 source's backing chain as the backup
// read it: the image (depth 0), its backing files, and external data files.
type ChainFile struct {
	Role   string    `json:"role"` // "image", "backing" or "data-file"
	Depth  int       `json:"depth"`
	Path   string    `json:"path"`   // absolute, symlinks resolved
	Format string    `json:"format"` // "qcow2" or "raw"
	Size   int64     `json:"size"`   // bytes
	MTime  time.Time `json:"mtime"`
}

// Expired reports whether the point's expiry has passed at now.
func (p Point) Expired(now time.Time) bool {
	return !p.Expiry.IsZero() && !now.Before(p.Expiry)
}

// pointAlias drops Point's methods so MarshalJSON does not recurse.
type pointAlias Point

// pointJSON renders Root as hex (blockstore.ID is a byte array).
type pointJSON struct {
	pointAlias
	Root string `json:"root"`
}

// MarshalJSON writes the record with Root as a hex string.
func (p Point) MarshalJSON() ([]byte, error) {
	return json.Marshal(pointJSON{pointAlias: pointAlias(p), Root: p.Root.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Point) UnmarshalJSON(b []byte) error {
	var j pointJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Point(j.pointAlias)
	if j.Root == "" {
		p.Root = blockstore.ID{}
		return nil
	}
	id, err := blockstore.ParseID(j.Root)
	if err != nil {
		return err
	}
	p.Root = id
	return nil
}
