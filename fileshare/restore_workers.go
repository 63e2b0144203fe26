package fileshare

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
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
	for j := range rs.jobs { // left over after a failure
		unix.Close(j.fd)
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
		unix.Close(j.fd)
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

func (rs *restorer) writeFile(ctx context.Context, j *restoreJob) error {
	defer unix.Close(j.fd)
	if err := rs.contents(ctx, j.fd, j.n); err != nil {
		return rs.soft(ctx, fmt.Errorf("%s: %w", showPath(j.rel), err))
	}
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
