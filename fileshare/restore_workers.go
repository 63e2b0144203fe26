package fileshare

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/blockstore"
)

// restoreWorkers fetch chunks and write file contents while the walk goes on.
const restoreWorkers = 3

// restoreJob is a created, still empty file whose contents, metadata and
// verification a worker completes. Directory metadata does not depend on it:
// writing into an open file changes neither its directory's times nor needs
// its permissions.
type restoreJob struct {
	fd  int
	n   *Entry
	rel string
	out string // path below the restore target; this restore created it
}

// parallel runs walk (which queues files) alongside the content workers.
func (rs *restorer) parallel(ctx context.Context, walk func(context.Context) error) error {
	rs.jobs = make(chan *restoreJob, restoreWorkers)
	g, gctx := errgroup.WithContext(ctx)
	for i := 0; i < restoreWorkers; i++ {
		g.Go(func() error { return rs.worker(gctx) })
	}
	g.Go(func() error {
		defer close(rs.jobs)
		return walk(gctx)
	})
	err := g.Wait()
	for j := range rs.jobs { // left over after a failure: created, never written
		rs.discard(j)
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

func (rs *restorer) queue(ctx context.Context, j *restoreJob) error {
	select {
	case rs.jobs <- j:
		return nil
	case <-ctx.Done():
		rs.discard(j)
		return ctx.Err()
	}
}

func (rs *restorer) worker(ctx context.Context) error {
	for j := range rs.jobs {
		if err := rs.writeFile(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// writeFile fills a created file. Data that cannot be read from the store
// (lost or corrupt chunks: blockstore.ErrCorruption, ErrNotFound) fails the
// whole restore and the file is removed: a file is never left holding zeros
// or a part of its data in place of what was lost. A write failure on the
// target (e.g. a full disk) or a cancellation removes it too.
func (rs *restorer) writeFile(ctx context.Context, j *restoreJob) error {
	if err := rs.contents(ctx, j.fd, j.n); err != nil {
		rs.discard(j)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: restore stopped, the file was not restored: %w", showPath(j.rel), err)
	}
	defer unix.Close(j.fd)
	rs.applyMeta(fdTarget(j.fd), j.n, j.rel)
	rs.progress()
	if rs.opts.Verify {
		if rs.opts.testHookVerify != nil {
			rs.opts.testHookVerify(j.fd)
		}
		rs.verify(ctx, j.fd, j.n, j.rel)
	}
	return nil
}

// discard closes and removes the file of a job that was not completed. Only
// this restore's own file is removed (it was created with O_EXCL); a failure
// to remove it is a warning naming it.
func (rs *restorer) discard(j *restoreJob) {
	unix.Close(j.fd)
	parent, base := "", j.out
	if i := strings.LastIndexByte(j.out, '/'); i >= 0 {
		parent, base = j.out[:i], j.out[i+1:]
	}
	pfd := rs.dstfd
	if parent != "" {
		fd, err := openBeneath(rs.dstfd, parent)
		if err != nil {
			rs.warn("%s: incomplete file could not be removed: %v", showPath(j.rel), err)
			return
		}
		defer unix.Close(fd)
		pfd = fd
	}
	if err := unix.Unlinkat(pfd, base, 0); err != nil {
		rs.warn("%s: incomplete file could not be removed: %v", showPath(j.rel), err)
	}
}

// IsDataLoss reports whether err means the store could not give back a
// chunk of the point: missing from the index (blockstore.ErrNotFound) or
// unreadable even with parity (*blockstore.CorruptionError). A chunk that
// reads back but decodes to a malformed object (ErrCorruptObject: a bad
// entry name, say) is not loss: that entry is skipped with a warning.
func IsDataLoss(err error) bool {
	var ce *blockstore.CorruptionError
	return errors.As(err, &ce) || errors.Is(err, blockstore.ErrNotFound)
}
