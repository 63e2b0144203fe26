package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

func itemCommand() *cli.Command {
	return &cli.Command{
		Name:  "item",
		Usage: "protected items: disks and shares bound to a policy",
		Subcommands: []*cli.Command{
			{Name: "add", ArgsUsage: "NAME", Flags: []cli.Flag{
				&cli.StringFlag{Name: "vault", Value: "default"},
				&cli.StringFlag{Name: "policy", Usage: "policy name (default: the vault's default policy)"},
				&cli.StringFlag{Name: "disk", Usage: "raw file, block device, nbd://…, nbd+unix://… or qcow2:PATH"},
				&cli.StringFlag{Name: "bitmap", Usage: "dirty bitmap name for changed-block tracking"},
				&cli.StringFlag{Name: "changed-blocks", Usage: "changed-block list file (rbd diff JSON or extents)"},
				&cli.StringFlag{Name: "share", Usage: "directory to protect"},
				&cli.StringFlag{Name: "pre-freeze", Usage: "command run before the capture (application consistency)"},
				&cli.StringFlag{Name: "post-thaw", Usage: "command run after the capture, always once pre-freeze ran"},
				&cli.BoolFlag{Name: "fsfreeze", Usage: "allow freezing the share's file system (FIFREEZE) for file-system consistency"},
				&cli.BoolFlag{Name: "one-file-system", Value: true, Usage: "share: stay on the share's file system (--one-file-system=false to cross mount points)"},
				&cli.GenericFlag{Name: "exclude", Value: &rawList{}, Usage: "share: leave out paths matching this gitignore-style PATTERN (repeatable; taken as typed, commas and spaces included)"},
				&cli.GenericFlag{Name: "exclude-if-present", Value: &rawList{}, Usage: "share: leave out directories holding a file of this NAME (repeatable)"},
				&cli.StringFlag{Name: "work-hours-rate", Usage: "this item's bandwidth in work hours (overrides the vault's)"},
				&cli.StringFlag{Name: "off-hours-rate", Usage: "this item's bandwidth outside work hours"},
				&cli.StringFlag{Name: "work-hours", Usage: "this item's work-hours window, e.g. mon-fri@08:00-18:00"},
			}, Action: call(itemAdd)},
			{Name: "list", Flags: []cli.Flag{vaultFlag, jsonFlag}, Action: call(itemList)},
			{Name: "show", ArgsUsage: "NAME", Flags: []cli.Flag{vaultFlag, jsonFlag}, Action: call(itemShow)},
			{Name: "stop", ArgsUsage: "NAME", Flags: []cli.Flag{vaultFlag, &cli.BoolFlag{Name: "delete-data", Usage: "soft-delete the item's points"}}, Action: call(itemStop)},
			{Name: "resume", ArgsUsage: "NAME", Flags: []cli.Flag{vaultFlag}, Action: call(itemVerb("resume"))},
			{Name: "undelete", ArgsUsage: "NAME", Flags: []cli.Flag{vaultFlag}, Action: call(itemVerb("undelete"))},
		},
	}
}

// itemPath addresses an item by name; the daemon finds its vault unless
// --vault narrows it.
func itemPath(c *cli.Context, name, suffix string) string {
	p := "/v1/items/" + url.PathEscape(name) + suffix
	if v := c.String("vault"); v != "" {
		p += "?vault=" + url.QueryEscape(v)
	}
	return p
}

func itemAdd(c *cli.Context, a *api) error {
	name, err := oneArg(c, "item NAME")
	if err != nil {
		return err
	}
	if (c.String("disk") == "") == (c.String("share") == "") {
		return usagef("item add %s: give exactly one of --disk SOURCE or --share DIR", name)
	}
	share, err := localPath(c, c.String("share"))
	if err != nil {
		return err
	}
	disk, err := localDisk(c, c.String("disk"))
	if err != nil {
		return err
	}
	req := daemon.ItemRequest{Name: name, Policy: c.String("policy"), Disk: disk, Bitmap: c.String("bitmap"),
		ChangedBlocks: c.String("changed-blocks"), Share: share, PreFreeze: c.String("pre-freeze"),
		PostThaw: c.String("post-thaw"), FSFreeze: c.Bool("fsfreeze"), WorkHoursRate: c.String("work-hours-rate"), OffHoursRate: c.String("off-hours-rate"),
		WorkHours: c.String("work-hours")}
	if c.IsSet("one-file-system") {
		one := c.Bool("one-file-system")
		req.OneFileSystem = &one
	}
	req.Exclude, req.ExcludeIfPresent = rawValues(c, "exclude"), rawValues(c, "exclude-if-present")
	var v map[string]any
	if err := a.post("/v1/vaults/"+c.String("vault")+"/items", req, &v); err != nil {
		return err
	}
	fmt.Printf("item %q added to vault %q\n", name, c.String("vault"))
	return nil
}

func itemList(c *cli.Context, a *api) error {
	p := "/v1/items"
	if v := c.String("vault"); v != "" {
		p += "?vault=" + url.QueryEscape(v)
	}
	var rows []map[string]any
	if err := a.get(p, &rows); err != nil {
		return err
	}
	return listing(c, rows, "name vault kind source state policy last=last_point")
}

func itemShow(c *cli.Context, a *api) error {
	name, err := oneArg(c, "item NAME")
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.get(itemPath(c, name, ""), &v); err != nil {
		return err
	}
	return record(c, v)
}

func itemStop(c *cli.Context, a *api) error {
	name, err := oneArg(c, "item NAME")
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.post(itemPath(c, name, "/stop"), daemon.StopRequest{DeleteData: c.Bool("delete-data")}, &v); err != nil {
		return approvalHint(err)
	}
	fmt.Printf("protection of %q stopped (state: %s)\n", name, cell(v["state"]))
	return nil
}

func itemVerb(verb string) func(c *cli.Context, a *api) error {
	return func(c *cli.Context, a *api) error {
		name, err := oneArg(c, "item NAME")
		if err != nil {
			return err
		}
		var v map[string]any
		if err := a.post(itemPath(c, name, "/"+verb), nil, &v); err != nil {
			return err
		}
		fmt.Printf("item %q: %s done (state: %s)\n", name, verb, cell(v["state"]))
		return nil
	}
}

// localDisk is localPath for a disk source, keeping a "qcow2:" prefix.
func localDisk(c *cli.Context, spec string) (string, error) {
	p, isQcow := strings.CutPrefix(spec, "qcow2:")
	p, err := localPath(c, p)
	if isQcow {
		p = "qcow2:" + p
	}
	return p, err
}

// rawList is a repeatable flag whose values are kept exactly as typed:
// cli.StringSliceFlag splits at commas and trims spaces, which turned the
// exclude pattern "*,v" into "*" (everything) and "v".
type rawList struct{ vals []string }

func (r *rawList) Set(v string) error { r.vals = append(r.vals, v); return nil }
func (r *rawList) String() string     { return strings.Join(r.vals, " ") }

// rawValues returns the values given to the rawList flag name.
func rawValues(c *cli.Context, name string) []string {
	if r, ok := c.Generic(name).(*rawList); ok {
		return r.vals
	}
	return nil
}
