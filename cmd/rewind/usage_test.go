package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestEveryCommandAndFlagHasUsage walks the command tree: each command and
// each of its flags needs a one-line usage for --help.
func TestEveryCommandAndFlagHasUsage(t *testing.T) {
	app := newApp()
	for _, f := range app.Flags {
		checkFlagUsage(t, "rewind", f)
	}
	walk(app.Commands, "rewind", func(path string, c *cli.Command) {
		if strings.TrimSpace(c.Usage) == "" || strings.Contains(c.Usage, "\n") {
			t.Errorf("%s: no one-line Usage", path)
		}
		for _, f := range c.Flags {
			checkFlagUsage(t, path, f)
		}
	})
}

func checkFlagUsage(t *testing.T, path string, f cli.Flag) {
	t.Helper()
	df, ok := f.(cli.DocGenerationFlag)
	if !ok || strings.TrimSpace(df.GetUsage()) == "" || strings.Contains(df.GetUsage(), "\n") {
		t.Errorf("%s --%s: no one-line Usage", path, f.Names()[0])
	}
}

// walk calls fn for every command below cmds, with its full path.
func walk(cmds []*cli.Command, path string, fn func(string, *cli.Command)) {
	for _, c := range cmds {
		p := path + " " + c.Name
		fn(p, c)
		walk(c.Subcommands, p, fn)
	}
}
