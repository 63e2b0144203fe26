package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// approvalsCommand lists, shows and rejects multi-user approval requests
// (security admins).
func approvalsCommand() *cli.Command {
	list := call(approvalsList)
	return &cli.Command{Name: "approvals", Usage: "approval requests of critical operations (security admins)",
		Flags: []cli.Flag{stateFlag, jsonFlag}, Action: list,
		Subcommands: []*cli.Command{
			{Name: "list", Usage: "list approval requests, newest first", Flags: []cli.Flag{stateFlag, jsonFlag}, Action: list},
			{Name: "show", ArgsUsage: "ID", Usage: "show one request: what it changes, who asked, its state", Flags: []cli.Flag{jsonFlag}, Action: call(approvalShow)},
			{Name: "reject", ArgsUsage: "ID", Usage: "reject a pending request", Flags: []cli.Flag{
				&cli.StringFlag{Name: "reason", Usage: "why, recorded with the rejection"}, jsonFlag,
			}, Action: call(approvalReject)},
		}}
}

var stateFlag = &cli.StringFlag{Name: "state", Usage: "only requests in this state: pending, approved, rejected or expired"}

func approvalsList(c *cli.Context, a *api) error {
	path := "/v1/approvals"
	if st := c.String("state"); st != "" {
		path += "?state=" + url.QueryEscape(st)
	}
	var rows []map[string]any
	if err := a.get(path, &rows); err != nil {
		return err
	}
	return listing(c, rows, "id vault state operation requester created expires summary")
}

func approvalShow(c *cli.Context, a *api) error {
	id, err := oneArg(c, "approval request ID")
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.get("/v1/approvals/"+url.PathEscape(id), &v); err != nil {
		return err
	}
	return record(c, v)
}

func approvalReject(c *cli.Context, a *api) error {
	id, err := oneArg(c, "approval request ID")
	if err != nil {
		return err
	}
	var v map[string]any
	req := daemon.RejectRequest{Reason: c.String("reason")}
	if err := a.post("/v1/approvals/"+url.PathEscape(id)+"/reject", req, &v); err != nil {
		return err
	}
	return show(c, v, func() error {
		fmt.Printf("request %s rejected: it can no longer be approved\n", id)
		return nil
	})
}

func approveCommand() *cli.Command {
	return &cli.Command{Name: "approve", ArgsUsage: "ID", Usage: "approve a critical operation (a security admin independent of the requester)",
		Action: call(func(c *cli.Context, a *api) error {
			id, err := oneArg(c, "approval request ID")
			if err != nil {
				return err
			}
			var v map[string]any
			if err := a.post("/v1/approvals/"+url.PathEscape(id)+"/approve", nil, &v); err != nil {
				return err
			}
			fmt.Printf("request %s approved and carried out\n", id)
			return nil
		})}
}

// approvalHint explains an approval_required answer.
func approvalHint(err error) error {
	var e *daemon.Error
	if errors.As(err, &e) && e.Code == daemon.CodeApprovalRequired {
		return cli.Exit(fmt.Sprintf("%s\napproval request %s created: a security admin independent of you runs \"rewind approve %s\" (\"rewind approvals\" lists requests)", e.Message, e.Request, e.Request), 1)
	}
	return err
}

// vaultPassphraseChange asks the daemon to re-wrap the vault key; with
// multi-user approval on it waits for a security admin.
func vaultPassphraseChange(c *cli.Context, a *api) error {
	name, old, keyFile, err := vaultCredential(c)
	if err != nil {
		return err
	}
	nw, err := newPassphrase(c)
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.post("/v1/vaults/"+url.PathEscape(name)+"/passphrase", daemon.PassphraseChangeRequest{Old: old, New: nw, OldKeyFile: keyFile}, &v); err != nil {
		return approvalHint(err)
	}
	fmt.Printf("passphrase of vault %q changed: export the key again (rewind vault key export %s --to FILE)\n", name, name)
	return nil
}

// newPassphrase reads --new-passphrase-file, REWIND_NEW_PASSPHRASE, or asks
// twice on the terminal.
func newPassphrase(c *cli.Context) (string, error) {
	if f := c.String("new-passphrase-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", usagef("new passphrase file: %v", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if p := os.Getenv("REWIND_NEW_PASSPHRASE"); p != "" {
		return p, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", usagef("no new passphrase: pass --new-passphrase-file, set REWIND_NEW_PASSPHRASE, or run on a terminal")
	}
	p, err := prompt("New passphrase: ")
	if err != nil {
		return "", err
	}
	again, err := prompt("Repeat new passphrase: ")
	if err != nil {
		return "", err
	}
	if again != p {
		return "", usagef("the new passphrases differ")
	}
	return p, nil
}
