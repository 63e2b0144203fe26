package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

// connection flags are accepted before and after the subcommand; the one
// given nearest the subcommand wins, then the environment, then the default.
var connFlags = []struct{ name, env, def, usage string }{
	{"socket", "REWIND_SOCKET", daemon.DefaultSocket, "the daemon's API socket"},
	{"url", "REWIND_URL", "", "talk to a remote daemon over TCP+TLS (https://HOST:PORT)"},
	{"token", "REWIND_TOKEN", "", "bearer token for --url"},
	{"ca", "REWIND_CA", "", "CA certificate file for --url"},
}

func globalFlags() []cli.Flag {
	out := make([]cli.Flag, len(connFlags))
	for i, f := range connFlags {
		out[i] = &cli.StringFlag{Name: f.name, Usage: f.usage + " (env " + f.env + ")"}
	}
	return out
}

// withConnFlags adds the connection flags to every leaf command.
func withConnFlags(cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		if len(c.Subcommands) > 0 {
			withConnFlags(c.Subcommands)
			if c.Action == nil { // a group that runs itself ("rewind approvals") needs them too
				continue
			}
		}
		c.Flags = append(c.Flags, globalFlags()...)
	}
	return cmds
}

// opt resolves a connection flag.
func opt(c *cli.Context, name string) string {
	for _, cc := range c.Lineage() {
		if slices.Contains(cc.LocalFlagNames(), name) {
			return cc.String(name)
		}
	}
	for _, f := range connFlags {
		if f.name == name {
			if v := os.Getenv(f.env); v != "" {
				return v
			}
			return f.def
		}
	}
	return ""
}

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON for scripts"}

// api is the client and a context cancelled on SIGINT/SIGTERM.
type api struct {
	*daemon.Client
	ctx context.Context
}

func connect(c *cli.Context) (*api, error) {
	cl, err := daemon.NewClient(opt(c, "socket"), opt(c, "url"), opt(c, "token"), opt(c, "ca"))
	if err != nil {
		return nil, err
	}
	ctx, _ := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	return &api{Client: cl, ctx: ctx}, nil
}

func (a *api) get(path string, out any) error      { return a.Do(a.ctx, "GET", path, nil, out) }
func (a *api) post(path string, in, out any) error { return a.Do(a.ctx, "POST", path, in, out) }
func (a *api) patch(path string, in, out any) error {
	return a.Do(a.ctx, "PATCH", path, in, out)
}
func (a *api) del(path string, out any) error { return a.Do(a.ctx, "DELETE", path, nil, out) }

// call connects and runs fn: the common shape of every client command.
func call(fn func(c *cli.Context, a *api) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		a, err := connect(c)
		if err != nil {
			return err
		}
		return fn(c, a)
	}
}

// localPath makes a relative path absolute when the CLI talks to the daemon
// over the local socket (both share this host's file system). Over TCP
// (--url) it is sent as given: the daemon refuses a relative path, since it
// cannot know this shell's working directory. URLs (…://) pass unchanged.
func localPath(c *cli.Context, p string) (string, error) {
	if p == "" || strings.Contains(p, "://") || filepath.IsAbs(p) || opt(c, "url") != "" {
		return p, nil
	}
	return filepath.Abs(p)
}
