// Command rewind is the rewind CLI and, as "rewind daemon", the service.
// Every command but "daemon" is a client of the daemon's API.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

// Exit codes (README and API.md): 0 ok, 1 failed, 2 usage, 3 completed with
// warnings, 4 not found, 5 access denied, 6 vault locked.
const (
	exitFailed   = 1
	exitUsage    = 2
	exitWarnings = 3
)

func main() {
	app := &cli.App{
		Name:                 "rewind",
		Usage:                "back up VM disks and file shares; mount and restore recovery points",
		Flags:                globalFlags(),
		Commands:             commands(),
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
	}
	err := app.Run(interleave(app, os.Args))
	os.Exit(report(err))
}

// usageError marks a bad flag or argument: exit code 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// report prints err and turns it into the process exit code.
func report(err error) int {
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "rewind:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "rewind:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return daemon.ExitCode(err)
}

func commands() []*cli.Command {
	cmds := []*cli.Command{daemonCommand(), statusCommand()}
	cmds = append(cmds, vaultCommand(), policyCommand(), itemCommand())
	cmds = append(cmds, backupCommand(), pointsCommand(), jobsCommand(), jobCommand())
	cmds = append(cmds, mountCommand(), umountCommand(), mountsCommand(), restoreCommand())
	cmds = append(cmds, maintenanceCommands()...)
	cmds = append(cmds, usageCommand(), tokenCommand(), approvalsCommand(), approveCommand(), seedCommand(), benchmarkCommand())
	return withConnFlags(cmds)
}
