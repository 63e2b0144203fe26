package fileshare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

// ErrConflict: the restore met existing entries and Conflict was not set.
var ErrConflict = errors.New("restore target has existing entries")

// restorer is one running restore. Every entry is created through a
// directory descriptor with a single validated name component and
// O_NOFOLLOW, so nothing a source holds can lead a write outside dst.
type restorer struct {
	src     RestoreSource
	root    *Entry
	opts    RestoreOptions
	res     *RestoreResult
	asRoot  bool
	dryRun  bool            // collect conflicts only
	dstfd   int             // dst, for resolving hardlink targets
	links   map[string]link // LinkKey → first name restored (path from dst)
	sel     [][]string      // selected paths, split; nil = everything
	matched []bool
	jobs    chan *restoreJob

	files, bytes, verified, dropped atomic.Int64
	mu                              sync.Mutex // Warnings, Mismatches, Progress
}

// link is the first restored name of a hard-link group.
type link struct {
	path string
	typ  Type
}

// Restore recreates the point's tree (or opts.Paths of it) under dst:
// contents with their holes, modes, owners (as root), times, symlinks,
// hardlinks and xattrs. Existing entries are handled per opts.Conflict; by
// default nothing is written when any exists and the error lists them.
func Restore(ctx context.Context, r ChunkReader, root blockstore.ID, dst string, opts RestoreOptions) (*RestoreResult, error) {
	t, err := OpenTree(ctx, r, root)
	if err != nil {
		return nil, err
	}
	return RestoreFrom(ctx, t.Source(), dst, opts)
}

// RestoreFrom writes src (or opts.Paths of it) under dst with the recorded
// metadata: contents with their holes, modes, owners (as root, unless
// opts.DropPrivileges), nanosecond times, symlinks, device nodes, FIFOs,
// sockets, hard links of every type, and exactly the recorded xattrs and
// ACLs. Existing entries are handled per opts.Conflict; by default nothing
// is written when any exists and the error (ErrConflict) lists them.
// Entries that cannot be restored are warnings in the result; the error is
// for cancellation, a bad option or an unusable dst.
func RestoreFrom(ctx context.Context, src RestoreSource, dst string, opts RestoreOptions) (*RestoreResult, error) {
	if err := checkConflictMode(opts.Conflict); err != nil {
		return nil, err
	}
	root, err := src.Root(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore source: %w", err)
	}
	rs := &restorer{src: src, root: root, opts: opts, res: &RestoreResult{}, asRoot: os.Geteuid() == 0, links: map[string]link{}}
	if rs.sel, err = splitPaths(opts.Paths); err != nil {
		return nil, err
	}
	rs.matched = make([]bool, len(rs.sel))
	created, err := makeDst(dst)
	if err != nil {
		return nil, err
	}
	dfd, err := unix.Open(dst, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("restore target %s: %w", dst, err)
	}
	defer unix.Close(dfd)
	rs.dstfd = dfd
	if opts.Conflict == ConflictRefuse && !created {
		if err := rs.refuseConflicts(ctx, dfd, dst); err != nil {
			return rs.res, err
		}
	}
	return rs.res, rs.run(ctx, dfd, created)
}

func checkConflictMode(c Conflict) error {
	switch c {
	case ConflictRefuse, ConflictOverwrite, ConflictSkip, ConflictRename:
		return nil
	}
	return fmt.Errorf("conflict mode %q: use overwrite, skip or rename (or leave it empty to refuse)", c)
}

// makeDst creates dst if needed; fresh means it was absent or empty, so
// the point's top-directory metadata is applied to it and no conflict can arise.
func makeDst(dst string) (fresh bool, err error) {
	if _, err := os.Lstat(dst); err == nil {
		f, err := os.Open(dst)
		if err != nil {
			return false, fmt.Errorf("restore target %s: %w", dst, err)
		}
		defer f.Close()
		names, _ := f.Readdirnames(1)
		return len(names) == 0, nil
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return false, fmt.Errorf("create restore target %s: %w", dst, err)
	}
	return true, nil
}

func (rs *restorer) refuseConflicts(ctx context.Context, dfd int, dst string) error {
	rs.dryRun = true
	err := rs.dir(ctx, dfd, rs.root, "", "", 0)
	rs.dryRun = false
	if err != nil {
		return err
	}
	if c := rs.res.Conflicts; len(c) > 0 {
		return fmt.Errorf("%w: %d in %s (first: %s): choose a conflict mode (overwrite, skip or rename) or restore to an empty directory",
			ErrConflict, len(c), dst, strings.Join(c[:min(len(c), 10)], ", "))
	}
	return nil
}

func (rs *restorer) run(ctx context.Context, dfd int, created bool) error {
	rs.res.Conflicts = nil
	rs.matched = make([]bool, len(rs.sel))
	err := rs.parallel(ctx, func(ctx context.Context) error {
		return rs.dir(ctx, dfd, rs.root, "", "", 0)
	})
	rs.res.Files, rs.res.Bytes, rs.res.Verified = rs.files.Load(), rs.bytes.Load(), rs.verified.Load()
	rs.res.Dropped = rs.dropped.Load()
	if err != nil {
		return err
	}
	for i, m := range rs.matched {
		if !m {
			rs.warn("%s: not in the recovery point, nothing restored for it", showPath(strings.Join(rs.sel[i], "/")))
		}
	}
	if rs.sel == nil && (created || rs.opts.Conflict == ConflictOverwrite) {
		rs.applyMeta(fdTarget(dfd), rs.root, "")
	}
	rs.progress()
	return nil
}

// splitPaths validates and splits opts.Paths.
func splitPaths(paths []string) ([][]string, error) {
	var out [][]string
	for _, p := range paths {
		t := strings.Trim(p, "/")
		if t == "" {
			return nil, nil // the root selects everything
		}
		parts := strings.Split(t, "/")
		for _, c := range parts {
			if !validName(c) {
				return nil, fmt.Errorf("restore path %q: component %q is not a file name (give paths relative to the share root, no . or ..)", p, c)
			}
		}
		out = append(out, parts)
	}
	return out, nil
}

// selection tells whether rel (split) is restored in full, or only passed
// through on the way to a selected path.
func (rs *restorer) selection(rel []string) (full, through bool) {
	if rs.sel == nil {
		return true, false
	}
	for i, s := range rs.sel {
		n := min(len(s), len(rel))
		if !equalParts(s[:n], rel[:n]) {
			continue
		}
		if len(rel) >= len(s) {
			if len(rel) == len(s) {
				rs.matched[i] = true
			}
			return true, false
		}
		through = true
	}
	return false, through
}

func equalParts(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (rs *restorer) warn(format string, a ...any) {
	if rs.dryRun {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.res.Warnings) < maxWarnings {
		rs.res.Warnings = append(rs.res.Warnings, fmt.Sprintf(format, a...))
	}
}

func (rs *restorer) progress() {
	if rs.opts.Progress != nil && !rs.dryRun {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.opts.Progress(rs.files.Load(), rs.bytes.Load())
	}
}
