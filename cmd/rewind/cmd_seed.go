package main

import (
	"path/filepath"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

func seedCommand() *cli.Command {
	return &cli.Command{Name: "seed", Usage: "offline seeding: carry a first full backup on a disk", Subcommands: []*cli.Command{
		{Name: "export", ArgsUsage: "ITEM", Usage: "write the item's first full point into a seed directory",
			Flags: []cli.Flag{vaultFlag, &cli.StringFlag{Name: "to", Required: true, Usage: "seed directory to write (on the carried disk)"}, &cli.StringFlag{Name: "point", Usage: "another point than the first full one"},
				noWaitFlag, jsonFlag},
			Action: call(func(c *cli.Context, a *api) error {
				name, err := oneArg(c, "ITEM")
				if err != nil {
					return err
				}
				to, err := filepath.Abs(c.String("to"))
				if err != nil {
					return err
				}
				var job map[string]any
				if err := a.post(itemPath(c, name, "/seed-export"), daemon.SeedExportRequest{To: to, Point: c.String("point")}, &job); err != nil {
					return err
				}
				return followJob(c, a, job)
			})},
		{Name: "import", ArgsUsage: "DIR", Usage: "verify a seed directory and add its point to the vault",
			Flags: []cli.Flag{&cli.StringFlag{Name: "vault", Value: "default", Usage: "the vault to import into"}, &cli.StringFlag{Name: "item", Usage: "item name (default: the one in the seed)"},
				noWaitFlag, jsonFlag},
			Action: call(func(c *cli.Context, a *api) error {
				dir, err := oneArg(c, "DIR")
				if err != nil {
					return err
				}
				if dir, err = filepath.Abs(dir); err != nil {
					return err
				}
				var job map[string]any
				req := daemon.SeedImportRequest{Dir: dir, Item: c.String("item")}
				if err := a.post("/v1/vaults/"+c.String("vault")+"/seed-import", req, &job); err != nil {
					return err
				}
				return followJob(c, a, job)
			})},
	}}
}
