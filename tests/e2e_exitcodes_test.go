package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIExitCodes runs the real binary over every exit-code path README
// promises: 2 for usage mistakes (unknown flag or command, missing required
// flag, no arguments), 4 for nothing found, 5 for a wrong passphrase or a
// request approved by its requester.
func TestCLIExitCodes(t *testing.T) {
	d, remote := tcpDaemon(t)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	d.createVault("locked")
	wrong := filepath.Join(d.dir, "wrong.pass")
	if err := os.WriteFile(wrong, []byte("not the passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.must("vault", "set", "default", "--multi-user-approval", "--soft-delete-days", "30")
	// Root asks, then makes the first security admin: that token's maker
	// made the request, so it approving it is self-approval.
	held := requestID(t, d, "vault", "set", "default", "--soft-delete-days", "14")
	sa := asToken(remote, d.token("security-admin"))
	restoreTo := filepath.Join(d.dir, "restored")
	text := filepath.Join(d.dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a disk image\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no arguments", nil, 2, "needs a command"},
		{"unknown global flag", []string{"--bogus"}, 2, "bogus"},
		{"unknown flag of a group", []string{"vault", "--bogus"}, 2, "bogus"},
		{"unknown flag of a command", []string{"item", "list", "--bogus"}, 2, "bogus"},
		{"unknown command", []string{"nosuch"}, 2, `unknown command "nosuch"`},
		{"unknown subcommand", []string{"vault", "nosuch"}, 2, `run "rewind vault --help"`},
		{"group without command", []string{"item"}, 2, "needs a command"},
		{"help for an unknown command", []string{"help", "nosuch"}, 2, "nosuch"},
		{"nested group without command", []string{"vault", "key"}, 2, "needs a command"},
		{"missing required flag", []string{"token", "create"}, 2, "role"},
		{"missing required flags", []string{"restore", "files", "files"}, 2, "point"},
		{"missing argument", []string{"backup"}, 2, "ITEM"},
		{"bad flag value", []string{"policy", "create", "p", "--daily", "25:00", "--keep-daily", "7"}, 2, "25:00"},
		{"text file as qcow2", []string{"item", "add", "vm", "--disk", "qcow2:" + text}, 2, "not a qcow2 image"},
		{"directory as disk", []string{"item", "add", "vm", "--disk", src}, 2, "neither a file nor a block device"},
		{"char device as disk", []string{"item", "add", "vm", "--disk", "/dev/zero"}, 2, "neither a file nor a block device"},
		{"unknown item", []string{"item", "show", "nope"}, 4, "not found"},
		{"restored path does not exist", []string{"restore", "files", "files", "--point", "latest", "--to", restoreTo, "--path", "/no/such/file"}, 4, "no/such/file"},
		{"wrong passphrase", []string{"vault", "passphrase", "change", "locked", "--passphrase-file", wrong, "--new-passphrase-file", wrong}, 5, "passphrase"},
		{"wrong passphrase at unlock", []string{"vault", "unlock", "locked", "--passphrase-file", wrong}, 5, "passphrase"},
		{"self-approval", sa("approve", held), 5, "cannot approve"},
		{"help is not an error", []string{"vault", "--help"}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := d.run(c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("rewind %s: exit %d %q, want exit %d containing %q", strings.Join(c.args, " "), code, errOut, c.code, c.want)
			}
		})
	}
}

// TestCLIHelpIsData: a positional argument named "help" or "h" is a name,
// not a request for help.
func TestCLIHelpIsData(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "help", "--share", src)
	var it map[string]any
	d.jsonOf(&it, "item", "show", "help")
	if it["name"] != "help" {
		t.Fatalf("item show help: %v", it)
	}
	// "h" is too short for an item: a job id then.
	if _, errOut, code := d.run("job", "show", "h"); code != 4 || !strings.Contains(errOut, "not found") {
		t.Fatalf("job show h: exit %d %q, want 4 (no such job)", code, errOut)
	}
	if out := d.must("item", "add", "--help"); !strings.Contains(out, "protect a disk or a share") {
		t.Fatalf("item add --help: %s", out)
	}
}
