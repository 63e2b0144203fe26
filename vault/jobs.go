package vault

import (
	"context"
	"fmt"
)

var jobTypes = map[JobType]bool{JobBackup: true, JobRestore: true, JobConfigure: true, JobStop: true,
	JobDelete: true, JobVerify: true, JobGC: true, JobRepair: true, JobSeed: true, JobUndelete: true,
	JobConfigVault: true}

// exclusive job types: at most one active per vault.
var vaultExclusive = map[JobType]bool{JobGC: true, JobRepair: true, JobVerify: true}

// CreateJob records a new queued job and returns it with its id. j.Type is
// required; ID, Status, Vault and Created are set here. A backup needs an
// item that is pending or protected. A second active backup of the same
// item, or a second active gc/verify/repair in the vault, is refused with
// ErrConflict naming the running job.
func (v *Vault) CreateJob(ctx context.Context, j Job) (Job, error) {
	if !jobTypes[j.Type] {
		return Job{}, invalid("job type %q is unknown", j.Type)
	}
	if j.Type == JobBackup && j.Item == "" {
		return Job{}, invalid("a backup job needs its item")
	}
	if j.Item != "" {
		if err := checkName("item", j.Item); err != nil {
			return Job{}, err
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.checkJobConflict(j); err != nil {
		return Job{}, err
	}
	j.V, j.ID, j.Status, j.Vault, j.Created = 1, v.host.ids.next(idJob), JobQueued, v.name, v.now()
	t := v.cat().begin()
	defer t.abort()
	if err := putJob(t, j); err != nil {
		return Job{}, err
	}
	return j, t.commit()
}

func (v *Vault) checkJobConflict(j Job) error {
	if j.Type == JobBackup {
		if err := v.checkBackupable(j.Item); err != nil {
			return err
		}
	}
	if j.Type != JobBackup && !vaultExclusive[j.Type] {
		return nil
	}
	active, err := v.Jobs(ctx0, JobFilter{Item: j.Item, Type: j.Type, Active: true})
	if err != nil {
		return err
	}
	if len(active) == 0 {
		return nil
	}
	a := active[0]
	if j.Type == JobBackup {
		return refuse(ErrConflict, "a backup of item %q is already %s (job %s): wait for it or run \"rewind job cancel %s\"", j.Item, a.Status, a.ID, a.ID)
	}
	return refuse(ErrConflict, "a %s of vault %q is already %s (job %s): wait for it or run \"rewind job cancel %s\"", j.Type, v.name, a.Status, a.ID, a.ID)
}

// checkBackupable refuses a backup of an item that is not protected or
// pending (stopped, soft-deleted, purged or missing).
func (v *Vault) checkBackupable(name string) error {
	it, err := v.liveItem(ctx0, name)
	if err != nil {
		return err
	}
	switch it.State {
	case StatePending, StateProtected:
		return nil
	case StateDeleted:
		return refuse(ErrConflict, "item %q is soft-deleted: run \"rewind item undelete %s\" and \"rewind item resume %s\" before backing it up", name, name, name)
	}
	return refuse(ErrConflict, "protection of item %q is stopped: run \"rewind item resume %s\" before backing it up", name, name)
}

func putJob(t *txn, j Job) error {
	if err := t.put(jobKey(j.ID), j); err != nil {
		return err
	}
	if j.Item != "" {
		return t.put(jobItemKey(j.Item, j.ID), struct{}{})
	}
	return nil
}

// Job returns the job with id.
func (v *Vault) Job(ctx context.Context, id string) (Job, error) {
	var j Job
	found, err := v.cat().getJSON(jobKey(id), &j)
	if err != nil {
		return j, err
	}
	if !found {
		return j, notFound("job %q does not exist in vault %q: see \"rewind jobs\"", id, v.name)
	}
	return j, nil
}

// UpdateJob applies fn to the stored job and saves it. ID, Type, Vault, Item
// and Created cannot change. Moving to running sets Started; moving to a
// final status sets Ended. A final job cannot change (ErrConflict).
// Progress updates are synced writes: call at most about once a second.
func (v *Vault) UpdateJob(ctx context.Context, id string, fn func(*Job) error) (Job, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old, err := v.Job(ctx, id)
	if err != nil {
		return old, err
	}
	if old.Status.Final() {
		return old, refuse(ErrConflict, "job %s already ended (%s)", id, old.Status)
	}
	j := old
	j.Warnings = append([]string(nil), old.Warnings...)
	if err := fn(&j); err != nil {
		return old, err
	}
	j.ID, j.Type, j.Vault, j.Item, j.Created = old.ID, old.Type, old.Vault, old.Item, old.Created
	v.stampJob(&j, old.Status)
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(jobKey(id), j); err != nil {
		return old, err
	}
	return j, t.commit()
}

func (v *Vault) stampJob(j *Job, was JobStatus) {
	if j.Status == JobRunning && was != JobRunning && j.Started.IsZero() {
		j.Started = v.now()
	}
	if j.Status.Final() && j.Ended.IsZero() {
		j.Ended = v.now()
	}
}

// StartJob marks a queued job running.
func (v *Vault) StartJob(ctx context.Context, id string) (Job, error) {
	return v.UpdateJob(ctx, id, func(j *Job) error {
		j.Status = JobRunning
		return nil
	})
}

// SetJobProgress records progress of a running job.
func (v *Vault) SetJobProgress(ctx context.Context, id string, p Progress) (Job, error) {
	return v.UpdateJob(ctx, id, func(j *Job) error {
		j.Progress = p
		return nil
	})
}

// FinishJob ends a job: failed when jobErr is not nil, else completed or
// completed-with-warnings (warnings are appended).
func (v *Vault) FinishJob(ctx context.Context, id string, jobErr error, warnings ...string) (Job, error) {
	return v.UpdateJob(ctx, id, func(j *Job) error {
		j.Warnings = append(j.Warnings, warnings...)
		switch {
		case jobErr != nil:
			j.Status, j.Error = JobFailed, jobErr.Error()
		case len(j.Warnings) > 0:
			j.Status = JobCompletedWithWarnings
		default:
			j.Status = JobCompleted
		}
		return nil
	})
}

// CancelJob marks a queued or running job cancelled (the daemon stops the
// work itself).
func (v *Vault) CancelJob(ctx context.Context, id, principal string) (Job, error) {
	return v.UpdateJob(ctx, id, func(j *Job) error {
		j.Status = JobCancelled
		if principal != "" {
			j.Error = fmt.Sprintf("cancelled by %s", principal)
		}
		return nil
	})
}
