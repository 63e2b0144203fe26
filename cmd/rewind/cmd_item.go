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
			{Name: "add", ArgsUsage: "NAME", Usage: "protect a disk or a share under a policy", Description: itemAddHelp, Flags: []cli.Flag{
				&cli.StringFlag{Name: "vault", Value: "default", Usage: "the vault to add it to"},
				&cli.StringFlag{Name: "policy", Usage: "policy name (default: the vault's default policy)"},
				&cli.StringFlag{Name: "disk", Usage: "raw file, block device, nbd://…, nbd+unix://… or qcow2:PATH"},
				&cli.StringFlag{Name: "bitmap", Usage: "changed-block tracking: for qcow2:PATH a base NAME (rewind itself adds, checks and rotates bitmaps NAME.rewind.N in the image; leave NAME alone); for nbd:// the exported dirty bitmap's name"},
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
			{Name: "set", ArgsUsage: "NAME", Usage: "change an item's policy, hooks or bandwidth (only the flags given)", Flags: []cli.Flag{
				vaultFlag,
				&cli.StringFlag{Name: "policy", Usage: "move the item to this policy (its points are re-expired under it)"},
				&cli.StringFlag{Name: "pre-freeze", Usage: "command run before the capture (\"\" removes it; admins only)"},
				&cli.StringFlag{Name: "post-thaw", Usage: "command run after the capture (\"\" removes it; admins only)"},
				&cli.StringFlag{Name: "work-hours-rate", Usage: "this item's bandwidth in work hours, e.g. 50MB/s or unlimited"},
				&cli.StringFlag{Name: "off-hours-rate", Usage: "this item's bandwidth outside work hours"},
				&cli.StringFlag{Name: "work-hours", Usage: "this item's work-hours window, e.g. mon-fri@08:00-18:00"},
				&cli.BoolFlag{Name: "vault-rates", Usage: "drop the item's own bandwidth: follow the vault's again"},
				jsonFlag,
			}, Action: call(itemSet)},
			{Name: "list", Usage: "list items", Flags: []cli.Flag{vaultFlag, jsonFlag}, Action: call(itemList)},
			{Name: "show", ArgsUsage: "NAME", Usage: "show an item: source, policy, hooks, state, next run", Flags: []cli.Flag{vaultFlag, jsonFlag}, Action: call(itemShow)},
			{Name: "stop", ArgsUsage: "NAME", Usage: "stop scheduled backups (keeps the points unless --delete-data)", Flags: []cli.Flag{vaultFlag, &cli.BoolFlag{Name: "delete-data", Usage: "soft-delete the item's points"}}, Action: call(itemStop)},
			{Name: "resume", ArgsUsage: "NAME", Usage: "resume scheduled backups of a stopped item", Flags: []cli.Flag{vaultFlag}, Action: call(itemVerb("resume"))},
			{Name: "undelete", ArgsUsage: "NAME", Usage: "bring back a soft-deleted item's points before they are purged", Flags: []cli.Flag{vaultFlag}, Action: call(itemVerb("undelete"))},
		},
	}
}

// itemAddHelp explains sources, changed-block tracking and hooks (README
// and docs/DESIGN.md say the same).
const itemAddHelp = `Give exactly one source: --share DIR, or --disk SOURCE (a raw file or block
device, qcow2:PATH, nbd://HOST/EXPORT or nbd+unix:///EXPORT?socket=PATH). The
source is checked now: it must exist and be readable, and a qcow2: file must be
a qcow2 image.

--bitmap NAME (qcow2:PATH): rewind keeps its own persistent dirty bitmaps in the
image, named NAME.rewind.1, NAME.rewind.2, ...: before each backup it adds the
next generation and plants a canary in it, reads what the previous generation
marks, and after the point is committed removes the older one. A missing or
tampered generation is not trusted: that backup compares block hashes instead.
A bitmap called just NAME is never touched. --bitmap NAME (nbd://): the dirty
bitmap the NBD server exports as qemu:dirty-bitmap:NAME (hooks see the
checkpoint names in REWIND_CHECKPOINT and REWIND_CHECKPOINT_SINCE).

--pre-freeze/--post-thaw run (sh -c, as root, admins only) around each capture:
a succeeding pre-freeze makes the point application-consistent; a failing one
makes the job complete with warnings (exit 3), naming the level reached.`

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
	return listing(c, rows, "name vault kind source=source_str state policy next=next_run last=last_point")
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

// itemSet sends only the flags given: an unset flag leaves that setting.
func itemSet(c *cli.Context, a *api) error {
	name, err := oneArg(c, "item NAME")
	if err != nil {
		return err
	}
	var req daemon.ItemUpdateRequest
	for flag, dst := range map[string]**string{"policy": &req.Policy, "pre-freeze": &req.PreFreeze, "post-thaw": &req.PostThaw,
		"work-hours-rate": &req.WorkHoursRate, "off-hours-rate": &req.OffHoursRate, "work-hours": &req.WorkHours} {
		if c.IsSet(flag) {
			v := c.String(flag)
			*dst = &v
		}
	}
	req.VaultRates = c.Bool("vault-rates")
	if req == (daemon.ItemUpdateRequest{}) {
		return usagef("item set %s: nothing to change: give --policy, --pre-freeze, --post-thaw, a rate flag or --vault-rates", name)
	}
	var v map[string]any
	if err := a.patch(itemPath(c, name, ""), req, &v); err != nil {
		return err
	}
	return show(c, v, func() error {
		fmt.Printf("item %q updated (policy %s)\n", name, cell(v["policy"]))
		return nil
	})
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
