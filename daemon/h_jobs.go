package daemon

import (
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/rewind-backup/rewind/vault"
)

// jobView is a job as the API shows it, progress flattened for scripts.
type jobView struct {
	vault.Job
	Done  int64   `json:"done"`
	Total int64   `json:"total"`
	Rate  float64 `json:"rate"`
}

func viewJob(j vault.Job) jobView {
	return jobView{Job: j, Done: j.Progress.Done, Total: j.Progress.Total, Rate: j.Progress.Rate}
}

func (d *Daemon) hJobs(r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := checkJobStatus(q.Get("status")); err != nil {
		return nil, err
	}
	out := []jobView{}
	for _, info := range d.visibleVaults(r.Context()) {
		if vn := q.Get("vault"); vn != "" && vn != info.Name {
			continue
		}
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		jobs, err := v.Jobs(r.Context(), vault.JobFilter{Item: q.Get("item"), Active: q.Get("active") == "1"})
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			if st := q.Get("status"); st == "" || string(j.Status) == st {
				out = append(out, viewJob(j))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return newest(out, q.Get("limit"))
}

// newest keeps the last limit jobs of out (oldest first); "" keeps all.
func newest(out []jobView, limit string) ([]jobView, error) {
	if limit == "" {
		return out, nil
	}
	n, err := strconv.Atoi(limit)
	if err != nil || n < 1 {
		return nil, Errf(CodeInvalid, "limit %q: want a positive number of jobs", limit)
	}
	return out[max(0, len(out)-n):], nil
}

// findJob looks a job up in every vault.
func (d *Daemon) findJob(r *http.Request) (*vault.Vault, vault.Job, error) {
	id := r.PathValue("id")
	for _, info := range d.visibleVaults(r.Context()) {
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		if j, err := v.Job(r.Context(), id); err == nil {
			return v, j, nil
		}
	}
	return nil, vault.Job{}, Errf(CodeNotFound, "job %q not found: \"rewind jobs\" lists them", id)
}

func (d *Daemon) hJob(r *http.Request) (any, error) {
	_, j, err := d.findJob(r)
	if err != nil {
		return nil, err
	}
	return viewJob(j), nil
}

func (d *Daemon) hCancel(r *http.Request) (any, error) {
	v, j, err := d.findJob(r)
	if err != nil {
		return nil, err
	}
	if j.Status.Final() {
		return nil, Errf(CodeConflict, "job %s already ended (%s)", j.ID, j.Status)
	}
	if !d.jobs.cancel(j.ID, principalName(r)) {
		// Not running in this process (left over): record the cancel.
		if j, err = v.CancelJob(r.Context(), j.ID, principalName(r)); err != nil {
			return nil, err
		}
	}
	return viewJob(j), nil
}

func (d *Daemon) hMounts(r *http.Request) (any, error) { return d.visibleMounts(r.Context()), nil }

func (d *Daemon) hMount(r *http.Request) (any, error) {
	var req MountRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	var v *vault.Vault
	var err error
	switch {
	case req.Item != "":
		v, _, err = d.lookupItem(r.Context(), req.Vault, req.Item)
	case req.Vault != "":
		v, err = d.scopedVault(r.Context(), req.Vault)
	default:
		v, err = d.scopedVault(r.Context(), "default")
	}
	if err != nil {
		return nil, err
	}
	return d.mounts.mount(r.Context(), v, req)
}

func (d *Daemon) hUnmount(r *http.Request) (any, error) {
	mp := r.URL.Query().Get("path")
	if mp == "" {
		return nil, Errf(CodeInvalid, "unmount needs ?path=MOUNTPOINT")
	}
	if !d.mountVisible(r.Context(), mp) {
		return nil, Errf(CodeNotFound, "nothing of yours is mounted on %s: \"rewind mounts\" lists the mounts", mp)
	}
	if err := d.mounts.unmountAs(r.Context(), mp); err != nil {
		return nil, err
	}
	return map[string]string{"unmounted": mp}, nil
}

// jobStatuses are the values of a job's status, in the order a job goes.
var jobStatuses = []vault.JobStatus{vault.JobQueued, vault.JobRunning, vault.JobCompleted,
	vault.JobCompletedWithWarnings, vault.JobFailed, vault.JobCancelled}

func checkJobStatus(st string) error {
	if st == "" || slices.Contains(jobStatuses, vault.JobStatus(st)) {
		return nil
	}
	return Errf(CodeInvalid, "status %q: want queued, running, completed, completed-with-warnings, failed or cancelled", st)
}
