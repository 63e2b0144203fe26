package fileshare

import (
	"context"

	"github.com/rewind-backup/rewind/blockstore"
)

// ChunkWriter stores chunks; *blockstore.Writer satisfies it. Put must not
// retain data after it returns (the caller reuses its buffers).
type ChunkWriter interface {
	Put(ctx context.Context, data []byte) (blockstore.PutResult, error)
}

// ChunkReader fetches committed chunks; *blockstore.Store satisfies it.
type ChunkReader interface {
	Get(ctx context.Context, id blockstore.ID) ([]byte, error)
}

// ChunkHasher computes the id a chunk would get; *blockstore.Store satisfies
// it. Verify uses it when the reader offers it, else compares contents.
type ChunkHasher interface {
	ChunkID(data []byte) blockstore.ID
}

// Limiter throttles reading; *rate.Limiter (golang.org/x/time/rate)
// satisfies it. Backup asks for at most 64 KiB per call, so a burst of
// 64 KiB or more is enough.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
}

// BackupOptions tunes Backup. The zero value is usable.
type BackupOptions struct {
	// Workers is the number of file readers/chunkers (default 3).
	Workers int
	// Progress, when set, is called (never concurrently) with the regular
	// files scanned and the source bytes they cover so far, at most every
	// 100ms and once at the end.
	Progress func(files, bytes int64)
	// Limiter, when set, throttles file reads.
	Limiter Limiter
	// OneFileSystem skips directories on other devices (mount points are
	// recorded as empty directories, with a warning).
	OneFileSystem bool
	// Exclude lists gitignore-style patterns (see Excludes) matched against
	// paths from the share root; what matches is not recorded. Backup fails
	// on a bad pattern.
	Exclude []string
	// ExcludeIfPresent lists file names: a directory holding one of them is
	// not recorded at all (like restic's and borg's --exclude-if-present).
	ExcludeIfPresent []string
	// ExcludePaths lists absolute paths never recorded, matched by device
	// and inode (the vault's own data directory and shard targets); paths
	// that do not exist are ignored.
	ExcludePaths []string
	// TempDir receives the sorted runs of directories with more than 65,536
	// entries (unlinked files; "" = os.TempDir()).
	TempDir string
	// testHookRead runs after a file's first read and before its re-check (tests).
	testHookRead func(path string)
	// testHookDir runs after a directory is listed, before its entries are examined (tests).
	testHookDir func(path string)
}

// Result reports a backup.
type Result struct {
	Root         blockstore.ID // the point's root object
	SourceBytes  int64         // apparent size of all regular files
	FilesScanned int64         // regular files examined
	FilesRead    int64         // regular files whose contents were read
	BytesRead    int64         // file bytes read (holes are not read)
	BytesNew     int64         // encoded bytes newly stored (dedupe hits cost 0)
	Entries      int64         // entries of every type recorded
	Excluded     int64         // entries left out by Exclude, ExcludeIfPresent and ExcludePaths
	Warnings     []string      // entries skipped or recorded with a caveat
}

// Conflict decides what a restore does with a file that already exists.
type Conflict string

const (
	// ConflictRefuse (the default) restores nothing and lists the conflicts.
	ConflictRefuse Conflict = ""
	// ConflictOverwrite replaces existing entries (never deletes a non-empty directory).
	ConflictOverwrite Conflict = "overwrite"
	// ConflictSkip keeps existing entries untouched.
	ConflictSkip Conflict = "skip"
	// ConflictRename restores next to the existing entry as NAME.restored[-N].
	ConflictRename Conflict = "rename"
)

// RestoreOptions tunes Restore. The zero value restores everything and
// refuses to touch an existing non-directory entry.
type RestoreOptions struct {
	// Paths limits the restore to these slash-separated sub-paths of the
	// point (and what is below them). Parents are created as recorded.
	Paths []string
	// Conflict: what to do with entries that already exist under dst.
	Conflict Conflict
	// Verify re-reads every restored file and compares it with the point's
	// chunk ids; mismatches are listed in the result.
	Verify bool
	// Progress, when set, is called (never concurrently) with files and
	// bytes restored so far.
	Progress func(files, bytes int64)
	// DropPrivileges restores without what grants privilege: setuid and
	// setgid bits are cleared (the rest of the mode kept), security.capability
	// and the other trusted.* and security.* xattrs are not set (an SELinux
	// label is left to the target's policy without a warning), device nodes
	// are not created, and owners are not restored
	// (entries stay owned by the restoring user, root for the daemon). Each
	// thing left out is a warning and counts in RestoreResult.Dropped. For
	// restores by anyone but an admin who asked to keep privileges.
	DropPrivileges bool
	// testHookVerify runs on a restored file's descriptor before Verify reads it (tests).
	testHookVerify func(fd int)
}

// RestoreResult reports a restore.
type RestoreResult struct {
	Files      int64    // entries created
	Bytes      int64    // file bytes written
	Conflicts  []string // existing entries met (refused, skipped, overwritten or renamed)
	Warnings   []string // entries not restored or restored partially, and why
	Mismatches []string // with Verify: files that differ from the point
	Verified   int64    // with Verify: files compared
	Dropped    int64    // with DropPrivileges: bits, capabilities and devices left out
}
