package daemon

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/vault"
)

// jobFunc does a job's work. It reports through jc and returns nil, an
// error (the job fails), or ctx's error after a cancel.
type jobFunc func(ctx context.Context, jc *jobCtx) error

// runner runs jobs: at most cfg.MaxJobsPerVault at once per vault, never two
// on the same exclusive key (an item), each cancellable.
type runner struct {
	d  *Daemon
	mu sync.Mutex
	// stopping refuses new jobs once shutdown began.
	stopping bool
	running  map[string]*active // by job id
	busy     map[string]string  // exclusive key → job id
	slots    map[string]chan struct{}
	wg       sync.WaitGroup
}

type active struct {
	cancel   context.CancelCauseFunc
	v        *vault.Vault
	canceler string
}

func newRunner(d *Daemon) *runner {
	return &runner{d: d, running: map[string]*active{}, busy: map[string]string{}, slots: map[string]chan struct{}{}}
}

// errStopping is the cause given to jobs cancelled by a daemon shutdown.
var errStopping = errors.New("the daemon is stopping")

// submit records job as queued and runs fn in the background. exclusive, when
// not empty, refuses a second job on the same key (e.g. "vault/item").
func (r *runner) submit(v *vault.Vault, job vault.Job, exclusive string, fn jobFunc) (vault.Job, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return job, Errf(CodeUnavailable, "the daemon is stopping and takes no new jobs; try again once it is back")
	}
	if id, ok := r.busy[exclusive]; ok && exclusive != "" {
		return job, Errf(CodeConflict, "job %s is already running for %s: wait for it (\"rewind job watch %s\") or cancel it", id, job.Item, id)
	}
	rec, err := v.CreateJob(context.Background(), job)
	if err != nil {
		return job, err
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	r.running[rec.ID] = &active{cancel: cancel, v: v}
	if exclusive != "" {
		r.busy[exclusive] = rec.ID
	}
	r.wg.Add(1)
	go r.run(ctx, v, rec, exclusive, fn)
	return rec, nil
}

func (r *runner) slot(vaultName string) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.slots[vaultName]
	if !ok {
		s = make(chan struct{}, r.d.cfg.MaxJobsPerVault)
		r.slots[vaultName] = s
	}
	return s
}

func (r *runner) run(ctx context.Context, v *vault.Vault, job vault.Job, exclusive string, fn jobFunc) {
	defer r.wg.Done()
	defer r.release(job.ID, exclusive)
	slot := r.slot(v.Name())
	select {
	case slot <- struct{}{}:
		defer func() { <-slot }()
	case <-ctx.Done():
		r.finish(ctx, v, job.ID, ctx.Err(), nil)
		return
	}
	bg := context.WithoutCancel(ctx)
	if _, err := v.StartJob(bg, job.ID); err != nil {
		r.d.log.Error("start job", "job", job.ID, "err", err)
	}
	jc := newJobCtx(r.d, v, job)
	err := r.safely(ctx, jc, fn)
	jc.flushProgress(true)
	r.finish(ctx, v, job.ID, err, jc.warnings())
}

// safely runs fn, turning a panic into the job's failure (logged with its
// stack) so one bad job never takes the daemon down.
func (r *runner) safely(ctx context.Context, jc *jobCtx, fn jobFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.d.log.Error("job panicked", "job", jc.job.ID, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error (a bug: please report it with the daemon log): %v", p)
		}
	}()
	return fn(ctx, jc)
}

// finish records the outcome: cancelled when the context was cancelled,
// else failed or completed (with warnings).
func (r *runner) finish(ctx context.Context, v *vault.Vault, id string, err error, warns []string) {
	bg := context.Background()
	if errors.Is(err, context.Canceled) || (ctx.Err() != nil && err == nil) {
		who := r.canceler(id)
		if cause := context.Cause(ctx); errors.Is(cause, errStopping) {
			who = "daemon shutdown"
		}
		if _, e := v.CancelJob(bg, id, who); e != nil {
			r.d.log.Error("record cancel", "job", id, "err", e)
		}
		return
	}
	rec, e := v.FinishJob(bg, id, err, warns...)
	r.d.ckpt.changed(v)
	if e != nil {
		r.d.log.Error("record job end", "job", id, "err", e)
		return
	}
	r.d.log.Info("job ended", "job", id, "type", rec.Type, "item", rec.Item, "status", rec.Status, "error", rec.Error)
}

func (r *runner) canceler(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.running[id]; ok {
		return a.canceler
	}
	return ""
}

func (r *runner) release(id, exclusive string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, id)
	if exclusive != "" && r.busy[exclusive] == id {
		delete(r.busy, exclusive)
	}
}

// cancel asks a running or queued job to stop; false when it is not running here.
func (r *runner) cancel(id, principal string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.running[id]
	if ok {
		a.canceler = principal
		a.cancel(context.Canceled)
	}
	return ok
}

// isBusy reports whether a job holds the exclusive key.
func (r *runner) isBusy(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.busy[key]
	return ok
}

// stop refuses new jobs, cancels the running ones and waits up to timeout
// for them to record their end.
func (r *runner) stop(timeout time.Duration) {
	r.mu.Lock()
	r.stopping = true
	for _, a := range r.running {
		a.cancel(errStopping)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		r.d.log.Warn("jobs did not stop within the shutdown timeout; they are recorded as failed at next start", "timeout", timeout)
	}
}
