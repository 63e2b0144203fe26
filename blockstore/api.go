package blockstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
)

// IDSize is the length of a chunk id: a keyed BLAKE3-256 of the plaintext.
const IDSize = 32

// MaxChunkSize bounds one chunk's plaintext. Disk blocks are 4 MiB and
// content-defined chunks at most 4 MiB; the headroom is for catalog objects.
const MaxChunkSize = 16 << 20

// ID names a chunk: keyed hash of its plaintext with a key derived from the
// vault's master key, so ids reveal nothing to someone without the key.
type ID [IDSize]byte

// String renders the id as lowercase hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero value (no chunk).
func (id ID) IsZero() bool { return id == ID{} }

// ParseID decodes a hex id as printed by ID.String.
func ParseID(s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != IDSize {
		return id, fmt.Errorf("chunk id %q: want %d hex bytes", s, IDSize)
	}
	copy(id[:], b)
	return id, nil
}

// Errors callers tell apart with errors.Is.
var (
	// ErrWrongPassphrase: the passphrase does not unwrap the master key.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrLocked: the store was opened without its passphrase (see Unlock).
	ErrLocked = errors.New("store is locked")
	// ErrNotFound: no chunk with that id is committed in the index.
	ErrNotFound = errors.New("chunk not found")
	// ErrNotExist: a shard target has no object of that name.
	ErrNotExist = errors.New("object does not exist")
	// ErrUnknownFormat: Open was pointed at a directory that is not a store of a
	// version this code reads. Nothing in it is touched.
	ErrUnknownFormat = errors.New("not a rewind store of a known format")
	// ErrCorruption marks bad data (failed checksum, tag, id or structure), as
	// opposed to I/O failures. Wrapped by *CorruptionError.
	ErrCorruption = errors.New("corruption")
)

// CorruptionError says which object is bad and why. errors.Is(err, ErrCorruption) holds.
type CorruptionError struct {
	Segment uint64 // 0 when not tied to a segment
	Chunk   ID     // zero when not tied to a chunk
	Object  string // shard object name, when known
	Reason  string
}

func (e *CorruptionError) Error() string {
	s := "corruption"
	if e.Segment != 0 {
		s += fmt.Sprintf(" in segment %016x", e.Segment)
	}
	if !e.Chunk.IsZero() {
		s += " chunk " + e.Chunk.String()
	}
	if e.Object != "" {
		s += " (" + e.Object + ")"
	}
	return s + ": " + e.Reason
}

// Is makes errors.Is(err, ErrCorruption) true.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorruption }

// Target is where shard objects live: a directory on its own disk now, an
// S3-compatible bucket later. Object names are flat, slash-separated ASCII
// ("seg/00000000000000a1.3"). No code outside a Target may assume a file system.
type Target interface {
	// Name identifies the target in errors and status ("dir:/srv/d1").
	Name() string
	// Put stores an immutable object atomically and durably: after Put returns
	// nil the whole object survives a crash; a failed Put leaves no object.
	Put(ctx context.Context, name string, data []byte) error
	// ReadAt reads len(p) bytes at off. A short object gives io.ErrUnexpectedEOF;
	// a missing one ErrNotExist.
	ReadAt(ctx context.Context, name string, p []byte, off int64) error
	// Stat returns the object's size, or ErrNotExist.
	Stat(ctx context.Context, name string) (int64, error)
	// List calls fn for every object whose name starts with prefix.
	List(ctx context.Context, prefix string, fn func(name string, size int64) error) error
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, name string) error
}

// Layout is the erasure-coding profile and where each shard goes. Fixed once
// the store holds data. len(Targets) == DataShards+ParityShards: shard i of
// every segment lives on Targets[i].
type Layout struct {
	DataShards   int
	ParityShards int
}

// Options for Create.
type Options struct {
	Layout Layout
	// SegmentSize is the open segment's sealing threshold in bytes (default 32 MiB).
	SegmentSize int
}

// PutResult says what Put did with a chunk.
type PutResult struct {
	ID     ID
	New    bool // false when the chunk was already stored (deduplicated)
	Stored int  // encoded bytes appended (0 when deduplicated)
}

// GCStats reports a collection.
type GCStats struct {
	LiveChunks, DeadChunks int
	SegmentsDeleted        int
	SegmentsRewritten      int
	BytesReclaimed         int64 // shard bytes freed on the targets
	OrphanObjectsDeleted   int   // shard objects no segment record names (crash leftovers)
}

// VerifyReport lists what a verify found. Clean() when nothing is wrong.
type VerifyReport struct {
	Segments     int
	Chunks       int // chunks decoded (only with ReadData)
	BadShards    []ShardProblem
	BadChunks    []ChunkProblem
	Unrepairable []uint64 // segments with more than ParityShards bad shards
}

// ShardProblem names one missing or corrupt shard object.
type ShardProblem struct {
	Segment uint64
	Shard   int
	Object  string
	Reason  string
}

// ChunkProblem names one chunk that failed to decode.
type ChunkProblem struct {
	ID      ID
	Segment uint64
	Reason  string
}

// Clean reports whether verify found nothing wrong.
func (r *VerifyReport) Clean() bool {
	return len(r.BadShards) == 0 && len(r.BadChunks) == 0 && len(r.Unrepairable) == 0
}

// Enumerator hands every live chunk id to yield; GC treats everything else as
// dead. The caller (the catalog) walks its recovery points to produce it.
type Enumerator func(ctx context.Context, yield func(ID) error) error
