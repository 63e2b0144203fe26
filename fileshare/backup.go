package fileshare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// maxWarnings bounds the warnings a result keeps (the rest are counted).
const maxWarnings = 10000

// backup is one running capture.
type backup struct {
	w     ChunkWriter
	r     ChunkReader
	opts  BackupOptions
	jobs  chan *fileJob
	putq  chan *chunkJob // chunks on their way to the store
	names idNames
	links map[[2]uint64]*hardlink // walker goroutine only
	dev   uint64                  // source root's device
	excl  *Excludes
	never map[[2]uint64]bool // (dev, ino) of ExcludePaths

	filesScanned, sourceBytes, filesRead, bytesRead, bytesNew, entries, excluded atomic.Int64

	mu        sync.Mutex
	warnings  []string
	dropped   int
	lastProgr time.Time
}

// hardlink remembers the first occurrence of a multiply-linked inode.
type hardlink struct {
	path string
	pe   *pending
}

// Backup captures the tree at src into w and returns the point's root id.
// prev (zero for none) is the item's previous point, read through r: files
// whose size, mtime, ctime and inode are unchanged reuse its chunk lists
// unread. Problems with single entries become warnings; a cancelled context
// or a store error returns an error (the caller commits nothing). The caller
// flushes w.
func Backup(ctx context.Context, w ChunkWriter, r ChunkReader, src string, prev blockstore.ID, opts BackupOptions) (*Result, error) {
	if opts.Workers <= 0 {
		opts.Workers = 3
	}
	fd, err := openNoatime(unix.AT_FDCWD, src, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, fmt.Errorf("backup source %s: %w (check that the share is mounted and readable)", src, err)
	}
	f := os.NewFile(uintptr(fd), src)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("backup source %s: %w", src, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, fmt.Errorf("backup source %s is not a directory: give the share's mount point", src)
	}
	b := &backup{w: w, r: r, opts: opts, links: map[[2]uint64]*hardlink{}, dev: st.Dev, never: inodesOf(opts.ExcludePaths)}
	if b.excl, err = CompileExcludes(opts.Exclude); err != nil {
		return nil, err
	}
	b.jobs = make(chan *fileJob, opts.Workers)
	b.putq = make(chan *chunkJob, putters)
	root, err := b.run(ctx, f, &st, prev)
	if err != nil {
		return nil, err
	}
	return b.result(root), nil
}

func (b *backup) run(ctx context.Context, f *os.File, st *unix.Stat_t, prev blockstore.ID) (blockstore.ID, error) {
	rootNode := b.describe("", st)
	rootNode.Type = TypeDir
	if xs, err := readXattrs(fmt.Sprintf("/proc/self/fd/%d/.", f.Fd())); err != nil {
		b.warn("/: %v", err)
	} else {
		rootNode.Xattrs = xs
	}
	prevTree := b.prevSubtree(ctx, prev)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(b.jobs)
		id, err := b.walkDir(gctx, f, "", prevTree)
		rootNode.subtree = id
		return err
	})
	b.startReaders(g, gctx)
	err := g.Wait()
	for j := range b.jobs { // only left over after a failure
		j.f.Close()
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return blockstore.ID{}, fmt.Errorf("backup of %s: %w", f.Name(), err)
	}
	res, err := b.w.Put(ctx, encodeRoot(rootNode))
	if err != nil {
		return blockstore.ID{}, fmt.Errorf("store root object: %w", err)
	}
	b.bytesNew.Add(int64(res.Stored))
	b.progress(true)
	return res.ID, nil
}

// prevSubtree finds the previous point's top directory; a point that cannot
// be read only costs reading everything again.
func (b *backup) prevSubtree(ctx context.Context, prev blockstore.ID) blockstore.ID {
	if prev.IsZero() || b.r == nil {
		return blockstore.ID{}
	}
	data, err := b.r.Get(ctx, prev)
	if err == nil {
		var n *Node
		if n, err = decodeRoot(data); err == nil {
			return n.subtree
		}
	}
	b.warn("previous point %s unreadable, reading every file: %v", prev, err)
	return blockstore.ID{}
}

func (b *backup) describe(name string, st *unix.Stat_t) *Node {
	n := nodeFromStat(name, st)
	n.User = b.names.user(n.Uid)
	n.Group = b.names.group(n.Gid)
	return n
}

func (b *backup) warn(format string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.warnings) >= maxWarnings {
		b.dropped++
		return
	}
	b.warnings = append(b.warnings, fmt.Sprintf(format, a...))
}

func (b *backup) progress(final bool) {
	if b.opts.Progress == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now := time.Now(); final || now.Sub(b.lastProgr) >= 100*time.Millisecond {
		b.lastProgr = now
		b.opts.Progress(b.filesScanned.Load(), b.sourceBytes.Load())
	}
}

func (b *backup) result(root blockstore.ID) *Result {
	r := &Result{
		Root:         root,
		SourceBytes:  b.sourceBytes.Load(),
		FilesScanned: b.filesScanned.Load(),
		FilesRead:    b.filesRead.Load(),
		BytesRead:    b.bytesRead.Load(),
		BytesNew:     b.bytesNew.Load(),
		Entries:      b.entries.Load(),
		Excluded:     b.excluded.Load(),
		Warnings:     b.warnings,
	}
	if b.dropped > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("... and %d more warnings", b.dropped))
	}
	return r
}

// storeError marks a failure of the chunk store, which ends the backup
// (unlike a source read error, which only skips the file).
type storeError struct{ err error }

func (e *storeError) Error() string { return "chunk store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func (b *backup) put(ctx context.Context, data []byte) (blockstore.ID, error) {
	res, err := b.w.Put(ctx, data)
	if err != nil {
		return blockstore.ID{}, &storeError{err}
	}
	b.bytesNew.Add(int64(res.Stored))
	return res.ID, nil
}

func isFatal(ctx context.Context, err error) bool {
	var se *storeError
	return ctx.Err() != nil || errors.As(err, &se)
}

// inodesOf stats paths (following symlinks: a target named through a link
// is still the target) and returns their identities; missing ones are skipped.
func inodesOf(paths []string) map[[2]uint64]bool {
	out := map[[2]uint64]bool{}
	for _, p := range paths {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil {
			out[[2]uint64{st.Dev, st.Ino}] = true
		}
	}
	return out
}
