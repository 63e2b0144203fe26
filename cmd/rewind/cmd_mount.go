package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

func mountCommand() *cli.Command {
	return &cli.Command{Name: "mount", ArgsUsage: "MOUNTPOINT", Usage: "mount recovery points read-only",
		Flags: []cli.Flag{vaultFlag, &cli.StringFlag{Name: "item", Usage: "mount only this item's points (default: every item)"}, &cli.StringFlag{Name: "point", Usage: "RFC 3339 time or latest"},
			&cli.StringFlag{Name: "expire", Usage: "unmount after this long (default 12h)"},
			&cli.BoolFlag{Name: "allow-other", Usage: "let other users in (the recorded modes still apply)"},
			&cli.BoolFlag{Name: "foreground", Usage: "serve the mount from this process, with no daemon running (needs --data and the passphrase)"},
			&cli.StringFlag{Name: "data", Usage: "the data directory, with --foreground", Value: "/var/lib/rewind"}, passphraseFlag},
		Action: func(c *cli.Context) error {
			mp, err := oneArg(c, "MOUNTPOINT")
			if err != nil {
				return err
			}
			abs, err := localPath(c, mp)
			if c.Bool("foreground") && err == nil {
				abs, err = filepath.Abs(mp)
			}
			if err != nil {
				return err
			}
			req := daemon.MountRequest{Mountpoint: abs, Vault: c.String("vault"), Item: c.String("item"),
				Point: c.String("point"), Expire: c.String("expire"), AllowOther: c.Bool("allow-other")}
			if c.Bool("foreground") {
				return mountForeground(c, req)
			}
			a, err := connect(c)
			if err != nil {
				return err
			}
			var m daemon.MountInfo
			if err := a.post("/v1/mounts", req, &m); err != nil {
				return err
			}
			fmt.Printf("mounted at %s until %s; \"rewind umount %s\" unmounts\n", m.Mountpoint, m.Expires.Format("2006-01-02 15:04 MST"), m.Mountpoint)
			return nil
		}}
}

func mountForeground(c *cli.Context, req daemon.MountRequest) error {
	pass, err := readPassphrase(c, false)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return daemon.MountForeground(ctx, c.String("data"), []byte(pass), req, log)
}

func umountCommand() *cli.Command {
	return &cli.Command{Name: "umount", ArgsUsage: "MOUNTPOINT", Usage: "unmount a mount made by \"rewind mount\"", Action: call(func(c *cli.Context, a *api) error {
		mp, err := oneArg(c, "MOUNTPOINT")
		if err != nil {
			return err
		}
		abs, err := localPath(c, mp)
		if err != nil {
			return err
		}
		return a.del("/v1/mounts?path="+url.QueryEscape(abs), nil)
	})}
}

func mountsCommand() *cli.Command {
	return &cli.Command{Name: "mounts", Usage: "list the daemon's mounts and when they expire", Flags: []cli.Flag{jsonFlag}, Action: call(func(c *cli.Context, a *api) error {
		var rows []map[string]any
		if err := a.get("/v1/mounts", &rows); err != nil {
			return err
		}
		return listing(c, rows, "mountpoint vault item point expires")
	})}
}

func restoreCommand() *cli.Command {
	common := func(extra ...cli.Flag) []cli.Flag {
		return append([]cli.Flag{vaultFlag, &cli.StringFlag{Name: "point", Required: true, Usage: "RFC 3339 time or latest"},
			noWaitFlag, jsonFlag}, extra...)
	}
	return &cli.Command{Name: "restore", Usage: "restore a disk, files, or a share", Subcommands: []*cli.Command{
		{Name: "disk", ArgsUsage: "ITEM", Usage: "write a disk point to a file, block device or NBD export", Flags: common(&cli.StringFlag{Name: "to", Required: true, Usage: "new file, or existing file or block device (absolute, or relative over the local socket)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing non-empty file, a device holding a partition table or file system, or the item's original source"},
			&cli.BoolFlag{Name: "verify", Usage: "reread what was written and compare"},
			&cli.StringFlag{Name: "format", Value: "raw", Usage: "raw or qcow2 (for a new file)"}),
			Action: call(restoreAction("disk"))},
		{Name: "files", ArgsUsage: "ITEM", Usage: "copy files or folders out of a point into a directory", Flags: common(&cli.StringFlag{Name: "to", Required: true, Usage: "directory to restore into (created if missing; its parent must exist)"},
			&cli.GenericFlag{Name: "path", Value: &rawList{}, Required: true, Usage: "path in the point to restore (repeatable; taken as typed)"}, &cli.StringFlag{Name: "volume", Usage: "N or VG-LV of a disk point"},
			&cli.BoolFlag{Name: "keep-privileges", Usage: "admin only: keep a disk guest's owners, setuid/setgid bits, capabilities, trusted.* and security.* xattrs and device nodes"},
			&cli.StringFlag{Name: "conflict", Usage: "overwrite, skip or rename (default: refuse before writing anything)"}),
			Action: call(restoreAction("files"))},
		{Name: "share", ArgsUsage: "ITEM", Usage: "restore a whole share (or --path parts) to a directory or its original place", Flags: common(&cli.StringFlag{Name: "to", Usage: "directory to restore into"},
			&cli.BoolFlag{Name: "original", Usage: "restore to the share's own directory"},
			&cli.StringFlag{Name: "conflict", Usage: "overwrite, skip or rename"}, &cli.GenericFlag{Name: "path", Value: &rawList{}, Usage: "restore only this path of the point (repeatable; taken as typed)"},
			&cli.BoolFlag{Name: "verify", Usage: "reread what was written and compare"}),
			Action: call(restoreAction("share"))},
	}}
}

func restoreAction(kind string) func(c *cli.Context, a *api) error {
	return func(c *cli.Context, a *api) error {
		name, err := oneArg(c, "ITEM")
		if err != nil {
			return err
		}
		to, err := localPath(c, c.String("to"))
		if err != nil {
			return err
		}
		if kind == "share" && (to == "") == !c.Bool("original") {
			return usagef("restore share %s: give --to DIR or --original", name)
		}
		req := daemon.RestoreRequest{Kind: kind, Point: c.String("point"), To: to, Force: c.Bool("force"),
			Verify: c.Bool("verify"), Format: c.String("format"), Paths: rawValues(c, "path"),
			Volume: c.String("volume"), Original: c.Bool("original"), Conflict: c.String("conflict"),
			KeepPrivileges: c.Bool("keep-privileges")}
		var job map[string]any
		if err := a.post(itemPath(c, name, "/restore"), req, &job); err != nil {
			return approvalHint(err)
		}
		return followJob(c, a, job)
	}
}
