package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// hintRe finds a command line quoted inside a string literal of Go source,
// as error messages give hints: run \"rewind vault unlock prod\", or in a
// raw string: run "rewind item set ITEM --policy P".
var hintRe = regexp.MustCompile(`(?:\\"|run ")rewind((?: [a-z][a-z0-9-]*)+)`)

// TestHintsNameCommands greps every non-test Go file of the repository for hints
// of the form "rewind CMD …" and checks each names a command of the CLI
// tree: a group must be followed by one of its subcommands.
func TestHintsNameCommands(t *testing.T) {
	// The tree before finishTree: a group with an Action runs itself.
	root := &cli.Command{Name: "rewind", Subcommands: commands()}
	n := 0
	err := filepath.WalkDir("../..", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() && strings.HasPrefix(e.Name(), ".") && path != "../.." {
			return skipDir(e, err)
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range hintRe.FindAllStringSubmatch(string(src), -1) {
			n++
			if bad := unknownPath(root, strings.Fields(m[1])); bad != "" {
				t.Errorf("%s: hint %q: %s", path, "rewind"+m[1], bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("found only %d hints: is the pattern still right?", n)
	}
}

func skipDir(e fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	return filepath.SkipDir
}

// unknownPath walks words down the tree and says what does not exist ("" if
// the words name a command; words after a command's leaf are arguments).
func unknownPath(c *cli.Command, words []string) string {
	for _, w := range words {
		if len(c.Subcommands) == 0 {
			return ""
		}
		next := findCommand(c.Subcommands, w)
		if next == nil {
			if c.Action != nil {
				return "" // a group that runs itself takes arguments
			}
			return "no command " + strings.TrimSpace(c.Name+" "+w)
		}
		c = next
	}
	if len(c.Subcommands) > 0 && c.Action == nil {
		return c.Name + " needs a subcommand"
	}
	return ""
}
