package vault

import (
	"context"
	"strings"
	"time"
)

// ctx0 is used by internal listings that do not wait.
var ctx0 = context.Background()

// Jobs lists jobs matching f, oldest first (with f.Limit, the newest Limit).
func (v *Vault) Jobs(ctx context.Context, f JobFilter) ([]Job, error) {
	var out []Job
	keep := func(j Job) error {
		if f.match(j) {
			out = append(out, j)
		}
		return nil
	}
	var err error
	if f.Item == "" {
		err = scanJSON(v.cat(), prefJob, keep)
	} else {
		err = v.cat().scan(jobItemPrefix(f.Item), func(key string, _ []byte) error {
			j, err := v.Job(ctx, strings.TrimPrefix(key, jobItemPrefix(f.Item)))
			if err != nil {
				return err
			}
			return keep(j)
		})
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, err
}

func (f JobFilter) match(j Job) bool {
	switch {
	case f.Item != "" && j.Item != f.Item:
		return false
	case f.Type != "" && j.Type != f.Type:
		return false
	case f.Active && j.Status.Final():
		return false
	case !f.Since.IsZero() && j.Created.Before(f.Since):
		return false
	}
	return true
}

// failStaleJobs marks jobs left queued or running by a stopped daemon as
// failed. It runs when the vault is opened, before anything can start a job.
func (v *Vault) failStaleJobs() error {
	if err := v.seedIDs(); err != nil {
		return err
	}
	stale, err := v.Jobs(ctx0, JobFilter{Active: true})
	if err != nil || len(stale) == 0 {
		return err
	}
	t := v.cat().begin()
	defer t.abort()
	for _, j := range stale {
		j.Status, j.Error, j.Ended = JobFailed, ReasonDaemonStopped, v.now()
		if err := t.put(jobKey(j.ID), j); err != nil {
			return err
		}
	}
	return t.commit()
}

// PruneJobs deletes the records of jobs that ended before cutoff and
// returns how many went. Active jobs are never pruned.
func (v *Vault) PruneJobs(ctx context.Context, cutoff time.Time) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old, err := v.Jobs(ctx, JobFilter{})
	if err != nil {
		return 0, err
	}
	t := v.cat().begin()
	defer t.abort()
	n := 0
	for _, j := range old {
		if !j.Status.Final() || !j.Ended.Before(cutoff) {
			continue
		}
		if err := t.del(jobKey(j.ID)); err != nil {
			return 0, err
		}
		if j.Item != "" {
			if err := t.del(jobItemKey(j.Item, j.ID)); err != nil {
				return 0, err
			}
		}
		n++
	}
	return n, t.commit()
}
