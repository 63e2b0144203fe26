package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

func maintenanceCommands() []*cli.Command {
	var out []*cli.Command
	for _, verb := range []string{"verify", "gc", "repair"} {
		out = append(out, &cli.Command{Name: verb, ArgsUsage: "[VAULT]", Usage: maintenanceUsage[verb], Flags: []cli.Flag{
			&cli.BoolFlag{Name: "read-data", Usage: "decode every chunk (verify)"}, noWaitFlag, jsonFlag,
		}, Action: call(maintenance(verb))})
	}
	return out
}

// maintenanceUsage is the one-line help of each maintenance command.
var maintenanceUsage = map[string]string{
	"verify": "check the vault's index and chunks (--read-data decodes every chunk)",
	"gc":     "delete chunks no recovery point refers to any more",
	"repair": "rebuild lost or damaged shards from parity",
}

// usageHelp explains the columns of "rewind usage".
const usageHelp = `For each live item of VAULT (default "default"), from the point records
(approximate; no chunk is read):
   POINTS  recovery points kept
   SOURCE  size of the source in the newest point
   STORED  bytes the item's kept points added to the vault, after dedup and
           compression (undercounts once older points expired)
   SHARED  SOURCE minus STORED (at least 0): an estimate of the data the item
           dedupes against its older points or other items
Sizes are IEC units (KiB = 1024 bytes) before erasure coding; --json gives bytes.`

func vaultArg(c *cli.Context) string {
	if c.NArg() > 0 {
		return c.Args().First()
	}
	return "default"
}

func maintenance(verb string) func(c *cli.Context, a *api) error {
	return func(c *cli.Context, a *api) error {
		var job map[string]any
		req := daemon.MaintenanceRequest{ReadData: c.Bool("read-data")}
		if err := a.post("/v1/vaults/"+vaultArg(c)+"/"+verb, req, &job); err != nil {
			return err
		}
		return followJob(c, a, job)
	}
}

func usageCommand() *cli.Command {
	return &cli.Command{Name: "usage", ArgsUsage: "[VAULT]", Usage: "space per item: source size, bytes stored, bytes deduplicated",
		Description: usageHelp, Flags: []cli.Flag{jsonFlag}, Action: call(func(c *cli.Context, a *api) error {
			var rows []map[string]any
			if err := a.get("/v1/vaults/"+vaultArg(c)+"/usage", &rows); err != nil {
				return err
			}
			return listing(c, rows, "item state points source=source_bytes stored=stored_bytes shared=shared_bytes")
		})}
}

func statusCommand() *cli.Command {
	return &cli.Command{Name: "status", Usage: "the daemon, its vaults, items, running jobs and mounts", Flags: []cli.Flag{jsonFlag}, Action: call(func(c *cli.Context, a *api) error {
		var st map[string]any
		if err := a.get("/v1/status", &st); err != nil {
			return err
		}
		return show(c, st, func() error { return printStatus(st) })
	})}
}

func printStatus(st map[string]any) error {
	fmt.Printf("rewind daemon %s, up since %s\n", cell(st["version"]), cell(st["started"]))
	if s, _ := st["space"].(string); s != "" {
		fmt.Printf("SPACE: %s\n", s)
	}
	for _, sec := range []struct{ key, spec string }{
		{"vaults", "vault=name locked degraded items=item_count writer error"},
		{"items", "item=name vault state next=next_run last=last_result"},
		{"running", "job=id type vault item status"},
		{"mounts", "mountpoint item point expires"},
		{"quarantined", "path reason"},
	} {
		rows := rowsOf(st[sec.key])
		if sec.key == "quarantined" && len(rows) == 0 {
			continue
		}
		fmt.Printf("\n%s:\n", sec.key)
		if len(rows) == 0 {
			fmt.Println("  none")
			continue
		}
		if err := table(rows, cols(sec.spec)); err != nil {
			return err
		}
	}
	return nil
}

func rowsOf(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func tokenCommand() *cli.Command {
	return &cli.Command{Name: "token", Usage: "API tokens for TCP clients", Subcommands: []*cli.Command{
		{Name: "create", Usage: "create a token for a role and print its secret once", Flags: []cli.Flag{&cli.StringFlag{Name: "role", Required: true,
			Usage: "reader, backup-operator, restore-operator, admin or security-admin"},
			&cli.StringSliceFlag{Name: "vault", Usage: "confine the token to this vault (repeat it, or a comma list); default every vault"}, jsonFlag},
			Action: call(func(c *cli.Context, a *api) error {
				var t daemon.TokenCreated
				req := daemon.TokenRequest{Role: c.String("role"), Vaults: splitList(c.StringSlice("vault"))}
				if err := a.post("/v1/tokens", req, &t); err != nil {
					return err
				}
				return show(c, t, func() error {
					fmt.Printf("token %s (%s) created. Its secret, shown only now:\n%s\n", t.ID, t.Role, t.Secret)
					return nil
				})
			})},
		{Name: "list", Usage: "list tokens (never their secrets)", Flags: []cli.Flag{jsonFlag}, Action: call(func(c *cli.Context, a *api) error {
			var rows []map[string]any
			if err := a.get("/v1/tokens", &rows); err != nil {
				return err
			}
			return listing(c, rows, "id role vaults created by=created_by")
		})},
		{Name: "revoke", ArgsUsage: "ID", Usage: "revoke a token: it stops working at once", Action: call(func(c *cli.Context, a *api) error {
			id, err := oneArg(c, "token ID")
			if err != nil {
				return err
			}
			return a.del("/v1/tokens/"+url.PathEscape(id), nil)
		})},
	}}
}

// splitList flattens repeated and comma-separated flag values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}
