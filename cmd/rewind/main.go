// Command rewind is the rewind CLI and, as "rewind daemon", the service.
// Every command but "daemon" is a client of the daemon's API.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

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
	app := newApp()
	err := app.Run(interleave(app, os.Args))
	os.Exit(report(err))
}

// newApp builds the command tree: every command's usage errors, unknown
// subcommands and bare groups end in exit code 2 (see finishTree).
func newApp() *cli.App {
	return &cli.App{
		Name:                 "rewind",
		Usage:                "back up VM disks and file shares; mount and restore recovery points",
		Flags:                globalFlags(),
		Commands:             finishTree("rewind", commands()),
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError:         onUsageError,
		Action:               groupAction("rewind"),
	}
}

func onUsageError(_ *cli.Context, err error, _ bool) error { return usageError{err} }

// finishTree sets, on every command below path, the hooks that make usage
// mistakes exit 2: a bad flag (OnUsageError), a group run without a command
// or with an unknown one (groupAction). Leaves hide the "help" subcommand so
// a positional argument named "help" or "h" is data ("rewind item add help").
func finishTree(path string, cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		if len(c.Subcommands) == 0 {
			c.HideHelpCommand = true
			continue
		}
		finishTree(path+" "+c.Name, c.Subcommands)
		if c.Action == nil {
			c.Action = groupAction(path + " " + c.Name)
		}
	}
	return cmds
}

// groupAction runs for a command group given no known subcommand: it shows
// the group's help and fails with a usage error naming the mistake.
func groupAction(path string) cli.ActionFunc {
	return func(c *cli.Context) error {
		_ = cli.ShowSubcommandHelp(c)
		if c.NArg() == 0 {
			return usagef("%q needs a command: run \"%s --help\"", path, path)
		}
		return usagef("unknown command %q for %q: run \"%s --help\"", c.Args().First(), path, path)
	}
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
	if errors.As(err, &ec) && !isMissingFlag(err) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "rewind:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "rewind:", err)
	var ue usageError
	if errors.As(err, &ue) || isMissingFlag(err) {
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

// isMissingFlag recognises urfave/cli's errors for an unset Required flag
// and for "rewind help NOSUCH" (their types are unexported or carry exit
// code 3, so the message is the only handle).
func isMissingFlag(err error) bool {
	return strings.HasPrefix(err.Error(), "Required flag") || strings.HasPrefix(err.Error(), "No help topic")
}
