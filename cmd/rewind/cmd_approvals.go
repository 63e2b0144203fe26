package main

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

// approvalsCommand lists, shows and rejects multi-user approval requests
// (security admins).
func approvalsCommand() *cli.Command {
	list := call(approvalsList)
	return &cli.Command{Name: "approvals", Usage: "approval requests of critical operations (security admins)",
		Flags: []cli.Flag{stateFlag, jsonFlag}, Action: list,
		Subcommands: []*cli.Command{
			{Name: "list", Flags: []cli.Flag{stateFlag, jsonFlag}, Action: list},
			{Name: "show", ArgsUsage: "ID", Flags: []cli.Flag{jsonFlag}, Action: call(approvalShow)},
			{Name: "reject", ArgsUsage: "ID", Flags: []cli.Flag{
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
