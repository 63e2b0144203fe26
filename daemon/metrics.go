package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"

	"github.com/rewind-backup/rewind/vault"
)

// serveMetrics serves Prometheus text-format metrics on cfg.MetricsListen.
func (d *Daemon) serveMetrics() (*http.Server, error) {
	ln, err := net.Listen("tcp", d.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", d.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		d.writeMetrics(r.Context(), w)
	})
	srv := &http.Server{Handler: mux}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics server stopped", "err", err)
		}
	}()
	return srv, nil
}

// writeMetrics writes jobs by status, bytes protected and stored per item,
// the last successful backup per item, and vault health.
func (d *Daemon) writeMetrics(ctx context.Context, w io.Writer) {
	jobs := map[string]int{}
	var items, vaults []string
	for _, info := range d.host.List(ctx) {
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		vaults = append(vaults, fmt.Sprintf("rewind_vault_locked{vault=%q} %d\nrewind_vault_degraded{vault=%q} %d",
			info.Name, b2i(info.Locked), info.Name, b2i(d.degraded(ctx, v))))
		list, _ := v.Jobs(ctx, vault.JobFilter{})
		for _, j := range list {
			jobs[fmt.Sprintf("vault=%q,type=%q,status=%q", info.Name, j.Type, j.Status)]++
		}
		items = append(items, d.itemMetrics(ctx, v)...)
	}
	fmt.Fprintln(w, "# HELP rewind_jobs Jobs recorded in the catalog, by type and status.\n# TYPE rewind_jobs gauge")
	keys := make([]string, 0, len(jobs))
	for k := range jobs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "rewind_jobs{%s} %d\n", k, jobs[k])
	}
	fmt.Fprintln(w, "# HELP rewind_vault_locked 1 when the vault's key is not in memory.\n# TYPE rewind_vault_locked gauge")
	fmt.Fprintln(w, "# HELP rewind_vault_degraded 1 when a shard target does not answer or a segment lacks shards (written degraded, or found damaged by verify).\n# TYPE rewind_vault_degraded gauge")
	fmt.Fprintln(w, strings.Join(vaults, "\n"))
	fmt.Fprintln(w, "# HELP rewind_item_source_bytes Size of the item's newest point's source.\n# TYPE rewind_item_source_bytes gauge")
	fmt.Fprintln(w, "# HELP rewind_item_stored_bytes Bytes the item's kept points added to the store.\n# TYPE rewind_item_stored_bytes gauge")
	fmt.Fprintln(w, "# HELP rewind_item_last_success_seconds Unix time of the item's newest point.\n# TYPE rewind_item_last_success_seconds gauge")
	fmt.Fprintln(w, strings.Join(items, "\n"))
}

func (d *Daemon) itemMetrics(ctx context.Context, v *vault.Vault) []string {
	var out []string
	usage, _ := v.Usage(ctx)
	for _, u := range usage {
		l := fmt.Sprintf("vault=%q,item=%q", v.Name(), u.Item)
		out = append(out, fmt.Sprintf("rewind_item_source_bytes{%s} %d", l, u.SourceBytes),
			fmt.Sprintf("rewind_item_stored_bytes{%s} %d", l, u.StoredBytes))
		if p, _ := latestPoint(ctx, v, u.Item); p != nil {
			out = append(out, fmt.Sprintf("rewind_item_last_success_seconds{%s} %d", l, p.Time.Unix()))
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
