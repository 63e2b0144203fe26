package seed

import (
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/vmdisk"
)

// Seed directory layout (FORMAT.md, "Seeds"):
//
//	<dir>/REWIND-SEED      "rewind seed format 2\n", written last by Create
//	<dir>/manifest.sealed  SealBlob(JSON Manifest, aad "rewind seed manifest v2")
//	<dir>/data/            the seed store's only target: keys/master and its segment objects
const (
	markerName    = "REWIND-SEED"
	markerText    = "rewind seed format 2\n"
	manifestName  = "manifest.sealed"
	manifestAAD   = "rewind seed manifest v2"
	dataDir       = "data"
	formatVersion = 2
	segmentSize   = 32 << 20
	maxManifest   = 64 << 20
	maxPacks      = 1 << 20
)

// Source kinds of a seed (the same words as vault item kinds).
const (
	KindDisk  = "disk"
	KindShare = "share"
)

// Manifest is what a seed records about its capture.
type Manifest struct {
	Version int    `json:"version"`
	Kind    string `json:"kind"` // KindDisk or KindShare
	// Source is the disk spec or share path as the seed's host reached it.
	Source string `json:"source"`
	// Bitmap is the qcow2 dirty bitmap base name given with --bitmap ("" = none).
	Bitmap string `json:"bitmap,omitempty"`
	// SourceState is the disk capture's source state (the planted bitmap
	// generation for a qcow2 with a bitmap); the import hands it to the
	// first point so the next backup can use the bitmap.
	SourceState string       `json:"source_state,omitempty"`
	Chain       vmdisk.Chain `json:"chain,omitempty"` // qcow2: the files read
	// Root is the point's root object in the seed store: the disk's block
	// map, or the share's tree (the base of the next backup's comparison).
	Root        blockstore.ID `json:"root"`
	Captured    time.Time     `json:"captured"` // when the capture started (UTC)
	SourceBytes int64         `json:"source_bytes"`
	BytesRead   int64         `json:"bytes_read"`
	BytesStored int64         `json:"bytes_stored"`
	Warnings    []string      `json:"warnings,omitempty"`
	Packs       []Pack        `json:"packs"`
}

// Pack is one object of the seed's target, checked before import.
type Pack struct {
	Name   string `json:"name"` // object name on the target (e.g. "keys/master", a segment shard)
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}
