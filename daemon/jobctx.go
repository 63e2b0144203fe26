package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/vault"
)

// jobCtx is what a running job reports through: progress (written to the
// catalog at most once a second), warnings, and the point it made.
type jobCtx struct {
	d   *Daemon
	v   *vault.Vault
	job vault.Job

	mu       sync.Mutex
	warns    []string
	done     int64
	total    int64
	start    time.Time
	lastSave time.Time
}

func newJobCtx(d *Daemon, v *vault.Vault, job vault.Job) *jobCtx {
	return &jobCtx{d: d, v: v, job: job, start: d.now()}
}

// warn adds a warning the job will end with.
func (jc *jobCtx) warn(msgs ...string) {
	jc.mu.Lock()
	jc.warns = append(jc.warns, msgs...)
	jc.mu.Unlock()
}

func (jc *jobCtx) warnings() []string {
	jc.mu.Lock()
	defer jc.mu.Unlock()
	return append([]string(nil), jc.warns...)
}

// progress records done of total bytes.
func (jc *jobCtx) progress(done, total int64) {
	jc.mu.Lock()
	jc.done, jc.total = done, total
	jc.mu.Unlock()
	jc.flushProgress(false)
}

// flushProgress writes progress to the catalog, at most once a second unless forced.
func (jc *jobCtx) flushProgress(force bool) {
	jc.mu.Lock()
	now := jc.d.now()
	if !force && now.Sub(jc.lastSave) < time.Second {
		jc.mu.Unlock()
		return
	}
	jc.lastSave = now
	p := vault.Progress{Done: jc.done, Total: jc.total}
	if secs := now.Sub(jc.start).Seconds(); secs > 0 {
		p.Rate = float64(jc.done) / secs
	}
	jc.mu.Unlock()
	if _, err := jc.v.SetJobProgress(context.Background(), jc.job.ID, p); err != nil {
		jc.d.log.Warn("record progress", "job", jc.job.ID, "err", err)
	}
}

// update changes the job record (point, consistency, detail).
func (jc *jobCtx) update(fn func(*vault.Job)) {
	if _, err := jc.v.UpdateJob(context.Background(), jc.job.ID, func(j *vault.Job) error { fn(j); return nil }); err != nil {
		jc.d.log.Warn("update job", "job", jc.job.ID, "err", err)
	}
}
