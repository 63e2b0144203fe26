package main

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

func backupCommand() *cli.Command {
	return &cli.Command{
		Name: "backup", ArgsUsage: "ITEM", Usage: "back up an item now (an on-demand recovery point)",
		Flags: []cli.Flag{vaultFlag,
			&cli.StringFlag{Name: "retain-until", Usage: "keep this point until DATE (YYYY-MM-DD or RFC 3339)"},
			&cli.StringFlag{Name: "changed-blocks", Usage: "changed-block list for this backup"},
			&cli.BoolFlag{Name: "no-wait", Usage: "print the job id and return"},
			jsonFlag,
		},
		Action: call(runBackup),
	}
}

func runBackup(c *cli.Context, a *api) error {
	name, err := oneArg(c, "ITEM")
	if err != nil {
		return err
	}
	req := daemon.BackupRequest{ChangedBlocks: c.String("changed-blocks")}
	if s := c.String("retain-until"); s != "" {
		t, err := parseDate(s)
		if err != nil {
			return err
		}
		req.RetainUntil = &t
	}
	var job map[string]any
	if err := a.post(itemPath(c, name, "/backup"), req, &job); err != nil {
		return err
	}
	return followJob(c, a, job)
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("date %q: write YYYY-MM-DD or an RFC 3339 time", s)
}

// noWaitFlag makes a job command print the job id and return at once.
var noWaitFlag = &cli.BoolFlag{Name: "no-wait", Usage: "print the job id and return; follow it with \"rewind job watch ID\""}

// followJob waits for a job unless --no-wait, showing progress on stderr,
// and turns its outcome into the exit code.
func followJob(c *cli.Context, a *api, job map[string]any) error {
	id := cell(job["id"])
	if c.Bool("no-wait") {
		if c.Bool("json") {
			return printJSON(job)
		}
		fmt.Println(id)
		return nil
	}
	final, err := watch(a, id, !c.Bool("json"))
	if err != nil {
		return err
	}
	if c.Bool("json") {
		if err := printJSON(final); err != nil {
			return err
		}
	} else {
		printJobSummary(final)
	}
	return jobExit(final)
}

// watch polls the job until it ends; Ctrl-C stops watching, not the job.
func watch(a *api, id string, bar bool) (map[string]any, error) {
	p := newProgress(bar)
	defer p.done()
	for {
		var job map[string]any
		if err := a.get("/v1/jobs/"+url.PathEscape(id), &job); err != nil {
			return nil, err
		}
		p.update(job)
		if ended(cell(job["status"])) {
			return job, nil
		}
		select {
		case <-a.ctx.Done():
			return nil, fmt.Errorf("stopped watching job %s; it goes on (\"rewind job cancel %s\" stops it)", id, id)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func ended(status string) bool {
	switch status {
	case "completed", "completed-with-warnings", "failed", "cancelled":
		return true
	}
	return false
}

func jobExit(job map[string]any) error {
	switch cell(job["status"]) {
	case "completed":
		return nil
	case "completed-with-warnings":
		return cli.Exit("", exitWarnings)
	case "cancelled":
		return cli.Exit("job cancelled", exitFailed)
	}
	return cli.Exit(fmt.Sprintf("job %s failed: %s", cell(job["id"]), cell(job["error"])), exitFailed)
}

func printJobSummary(job map[string]any) {
	fmt.Printf("job %s %s: %s", cell(job["id"]), cell(job["type"]), cell(job["status"]))
	if p := cell(job["point"]); p != "-" {
		fmt.Printf(", point %s", p)
	}
	fmt.Println()
	if ws, ok := job["warnings"].([]any); ok {
		for _, w := range ws {
			fmt.Println("  warning:", cell(w))
		}
	}
}

func pointsCommand() *cli.Command {
	return &cli.Command{Name: "points", ArgsUsage: "ITEM", Usage: "list an item's recovery points",
		Flags: []cli.Flag{vaultFlag, jsonFlag}, Action: call(func(c *cli.Context, a *api) error {
			name, err := oneArg(c, "ITEM")
			if err != nil {
				return err
			}
			var rows []map[string]any
			if err := a.get(itemPath(c, name, "/points"), &rows); err != nil {
				return err
			}
			if len(rows) > 0 && rows[0]["purge_at"] != nil && !c.Bool("json") {
				fmt.Printf("item %s is soft-deleted: these points are purged at %s unless \"rewind item undelete %s\" runs before\n\n",
					name, cell(rows[0]["purge_at"]), name)
			}
			return listing(c, rows, "point=time kind consistency tiers source=source_bytes read=bytes_read stored=bytes_new expires")
		})}
}

func jobsCommand() *cli.Command {
	return &cli.Command{Name: "jobs", Usage: "list jobs, newest first (--json: oldest first)", Flags: []cli.Flag{
		&cli.StringFlag{Name: "item", Usage: "only this item's jobs"}, vaultFlag,
		&cli.BoolFlag{Name: "active", Usage: "only queued and running jobs"},
		&cli.StringFlag{Name: "status", Usage: "only jobs in this state: queued, running, completed, completed-with-warnings, failed or cancelled"},
		&cli.IntFlag{Name: "limit", Usage: "only the newest N jobs"}, jsonFlag,
	}, Action: call(func(c *cli.Context, a *api) error {
		var rows []map[string]any
		if err := a.get("/v1/jobs?"+jobsQuery(c).Encode(), &rows); err != nil {
			return err
		}
		if !c.Bool("json") {
			slices.Reverse(rows)
		}
		return listing(c, rows, "id type status vault item started ended")
	})}
}

// jobsQuery is the GET /v1/jobs query of the jobs command's flags.
func jobsQuery(c *cli.Context) url.Values {
	q := url.Values{}
	for _, k := range []string{"item", "vault", "status"} {
		if v := c.String(k); v != "" {
			q.Set(k, v)
		}
	}
	if c.Bool("active") {
		q.Set("active", "1")
	}
	if c.IsSet("limit") {
		q.Set("limit", strconv.Itoa(c.Int("limit")))
	}
	return q
}

func jobCommand() *cli.Command {
	return &cli.Command{Name: "job", Usage: "show, watch or cancel one job", Subcommands: []*cli.Command{
		{Name: "show", ArgsUsage: "ID", Usage: "show a job: progress, warnings, error, result", Flags: []cli.Flag{jsonFlag}, Action: call(func(c *cli.Context, a *api) error {
			id, err := oneArg(c, "job ID")
			if err != nil {
				return err
			}
			var v map[string]any
			if err := a.get("/v1/jobs/"+url.PathEscape(id), &v); err != nil {
				return err
			}
			return record(c, v)
		})},
		{Name: "watch", ArgsUsage: "ID", Usage: "follow a job's progress until it ends (exit code as for the job)", Flags: []cli.Flag{jsonFlag}, Action: call(func(c *cli.Context, a *api) error {
			id, err := oneArg(c, "job ID")
			if err != nil {
				return err
			}
			return followJob(c, a, map[string]any{"id": id})
		})},
		{Name: "cancel", ArgsUsage: "ID", Usage: "cancel a queued or running job", Action: call(func(c *cli.Context, a *api) error {
			id, err := oneArg(c, "job ID")
			if err != nil {
				return err
			}
			if err := a.post("/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, nil); err != nil {
				return err
			}
			fmt.Printf("job %s: cancel requested\n", id)
			return nil
		})},
	}}
}
