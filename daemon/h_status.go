package daemon

import (
	"context"
	"net/http"
	"time"

	"github.com/rewind-backup/rewind/vault"
)

// statusView is "rewind status": vaults, items with their next run and last
// result, running jobs and mounts.
type statusView struct {
	Version string      `json:"version"`
	Started time.Time   `json:"started"`
	Vaults  []vaultView `json:"vaults"`
	Items   []itemStat  `json:"items"`
	Running []jobView   `json:"running"`
	Mounts  []MountInfo `json:"mounts"`
	// Quarantined lists vault directories start-up moved aside (never removed).
	Quarantined []vault.Quarantined `json:"quarantined"`
	// Space says why new backups are refused (the data directory is below its
	// free-space reserve); empty while there is room.
	Space string `json:"space,omitempty"`
}

type itemStat struct {
	Name       string     `json:"name"`
	Vault      string     `json:"vault"`
	State      string     `json:"state"`
	NextRun    *time.Time `json:"next_run,omitempty"`
	LastResult string     `json:"last_result,omitempty"`
	LastPoint  string     `json:"last_point,omitempty"`
}

func (d *Daemon) hStatus(r *http.Request) (any, error) {
	ctx := r.Context()
	st := statusView{Version: Version, Started: d.started, Vaults: []vaultView{}, Items: []itemStat{}, Running: []jobView{}, Mounts: d.visibleMounts(ctx),
		Quarantined: append([]vault.Quarantined{}, d.host.Quarantined()...)}
	if err := d.lowSpace(nil); err != nil {
		st.Space = "read-only for new backups: " + err.Error()
	}
	for _, info := range d.visibleVaults(ctx) {
		view := viewVault(info)
		v, err := d.host.Vault(info.Name)
		if err != nil {
			st.Vaults = append(st.Vaults, view)
			continue
		}
		view.Degraded = d.degraded(ctx, v)
		st.Vaults = append(st.Vaults, view)
		items, _ := v.Items(ctx)
		for _, it := range items {
			st.Items = append(st.Items, d.itemStatus(r, v, it))
		}
		jobs, _ := v.Jobs(ctx, vault.JobFilter{Active: true})
		for _, j := range jobs {
			st.Running = append(st.Running, viewJob(j))
		}
	}
	return st, nil
}

func (d *Daemon) itemStatus(r *http.Request, v *vault.Vault, it vault.Item) itemStat {
	s := itemStat{Name: it.Name, Vault: v.Name(), State: string(it.State)}
	if next, ok := d.sched.nextRun(v.Name(), it.Name); ok && scheduled(it) {
		s.NextRun = &next
	}
	if jobs, err := v.Jobs(r.Context(), vault.JobFilter{Item: it.Name, Type: vault.JobBackup, Limit: 1}); err == nil && len(jobs) > 0 {
		s.LastResult = string(jobs[len(jobs)-1].Status)
	}
	if p, _ := latestPoint(r.Context(), v, it.Name); p != nil {
		s.LastPoint = p.ID
	}
	return s
}

// degraded reports whether any shard target of v does not answer, or any
// segment lacks shards (written while a target failed, or found damaged by
// the last verify and not repaired since).
func (d *Daemon) degraded(ctx context.Context, v *vault.Vault) bool {
	for _, t := range v.Store().Targets() {
		if err := t.List(ctx, "keys/", func(string, int64) error { return nil }); err != nil {
			return true
		}
	}
	n, err := v.Store().DegradedSegments(ctx)
	return err != nil || n > 0
}

func (d *Daemon) hLogLevel(r *http.Request) (any, error) {
	var req struct {
		Level string `json:"level"`
	}
	if err := hostWide(r.Context(), "change the log level"); err != nil {
		return nil, err
	}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	lvl, err := ParseLevel(req.Level)
	if err != nil {
		return nil, Errf(CodeInvalid, "%v", err)
	}
	d.level.Set(lvl)
	d.log.Info("log level changed", "level", lvl.String(), "by", principalName(r))
	return map[string]string{"level": lvl.String()}, nil
}
