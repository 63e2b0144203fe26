package vmdisk

import (
	"context"
	"os"

	"github.com/rewind-backup/rewind/blockstore"
)

// BlockSize is the fixed, aligned unit of a disk point: 4 MiB.
const BlockSize = 4 << 20

// MaxDiskSize bounds the size a source may report (1 PiB). A larger size is
// treated as a hostile or broken source.
const MaxDiskSize = 1 << 50

// ChunkWriter stores chunks; *blockstore.Writer satisfies it.
type ChunkWriter interface {
	Put(ctx context.Context, data []byte) (blockstore.PutResult, error)
}

// ChunkReader fetches committed chunks; *blockstore.Store satisfies it.
type ChunkReader interface {
	Get(ctx context.Context, id blockstore.ID) ([]byte, error)
}

// ChunkHasher computes the id a chunk would get; *blockstore.Store satisfies it.
type ChunkHasher interface {
	ChunkID(data []byte) blockstore.ID
}

// Store is what Backup needs to read the previous point and compare block
// ids; *blockstore.Store satisfies it.
type Store interface {
	ChunkReader
	ChunkHasher
}

// Limiter throttles source reads (e.g. *rate.Limiter). WaitN is called with
// at most 1 MiB at a time.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
}

// ProgressFunc receives bytes done and bytes total; called from one goroutine.
type ProgressFunc func(done, total int64)

// Prev names the previous recovery point of the same item: its root object id
// and the SourceState string its BackupResult returned.
type Prev struct {
	Root        blockstore.ID
	SourceState string
	// Chain is the qcow2 backing chain the previous point recorded (nil when
	// it recorded none). Any change makes the bitmap untrusted.
	Chain Chain
}

// BackupOptions tune Backup. The zero value makes a full (or hash-compare)
// backup with no throttling.
type BackupOptions struct {
	// Bitmap is the persistent dirty bitmap to track changes with. For a
	// qcow2: source it is the bitmap's base name; rewind keeps generations
	// named "<Bitmap>.rewind.<n>" itself. For an NBD source it is the name
	// exported as meta context "qemu:dirty-bitmap:<Bitmap>".
	Bitmap string
	// BitmapSince (NBD only) is the checkpoint the exported bitmap counts
	// changes from; it must equal the previous point's Checkpoint or the
	// bitmap is not trusted.
	BitmapSince string
	// Checkpoint (NBD only) is the checkpoint the caller creates with this
	// backup; it is recorded in SourceState.
	Checkpoint string
	// ChangedBlocksFile is an `rbd diff --format json` output or a JSON list of
	// {"offset":N,"length":N} extents changed since the previous point.
	ChangedBlocksFile string
	// Workers is the number of hashing/encoding goroutines (default 2).
	Workers int
	// Progress, when set, is called as blocks are done.
	Progress ProgressFunc
	// ReadLimiter, when set, throttles source reads.
	ReadLimiter Limiter
	// SourceRoots are directories a qcow2 image's backing and data files
	// may lie in besides the image's own directory (config source_roots).
	SourceRoots []string
}

// Backup methods reported in BackupResult.Method.
const (
	MethodFull          = "full"           // no previous point: all allocated blocks read
	MethodBitmap        = "bitmap"         // only blocks a trusted dirty bitmap marks were read
	MethodChangedBlocks = "changed-blocks" // only blocks the changed-block list names were read
	MethodHashCompare   = "hash-compare"   // all allocated blocks read, only changed ones stored
)

// BackupResult describes a new disk point. Nothing is durable until the
// caller flushes its writer and commits Root in its catalog; then it must call
// Commit so the source's change tracking moves on.
type BackupResult struct {
	Root        blockstore.ID // root object of the block map: what the catalog stores
	Kind        string        // "full" or "incremental"
	Method      string        // one of the Method constants
	SourceBytes int64         // disk size
	BytesRead   int64         // bytes read from the source, exactly
	BytesNew    int64         // encoded bytes stored for new chunks (blocks and map pages)
	BlocksNew   int64         // data blocks stored as new chunks
	SourceState string        // opaque; hand back in Prev.SourceState next time
	Chain       Chain         // qcow2: the files read, as checked; hand back in Prev.Chain
	Warnings    []string

	commit func(ctx context.Context) error
}

// Commit is the after-commit step: call it once the point is committed in the
// catalog. For qcow2 sources it removes the previous bitmap generation. It is
// safe to call on a result that needs no step.
func (r *BackupResult) Commit(ctx context.Context) error {
	if r == nil || r.commit == nil {
		return nil
	}
	c := r.commit
	r.commit = nil
	return c(ctx)
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Format of a new target file: "raw" (default) or "qcow2".
	Format string
	// Force allows overwriting OriginalSource, an existing non-empty file and
	// a device holding a partition table or file-system signature.
	Force bool
	// Open, when set, opens the target file (flags as os.OpenFile, perm for a
	// file it creates) instead of os.OpenFile(target): the daemon passes one
	// that opens through a safely resolved directory descriptor.
	Open func(flags int, perm uint32) (*os.File, error)
	// Dir, when set, is target's directory opened by the caller: a qcow2
	// restore then works in a private directory made through it and renames
	// the image into place through it, so qemu-img never walks a path
	// another user could redirect.
	Dir *os.File
	// OriginalSource is the item's source spec; restoring onto it needs Force.
	OriginalSource string
	// Verify rereads the target and compares every block with the point.
	// It needs r to implement ChunkHasher.
	Verify bool
	// Workers fetching and writing blocks (default 2).
	Workers  int
	Progress ProgressFunc
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Size         int64 // disk size
	BytesWritten int64 // data bytes written (zero blocks left as holes are not counted)
	Verified     bool
}
