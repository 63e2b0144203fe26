package main

import (
	"fmt"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

var vaultFlag = &cli.StringFlag{Name: "vault", Usage: "the vault (needed when a name exists in several)"}

func policyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "daily", Usage: "HH:MM[,HH:MM…] (up to 3 times a day)"},
		&cli.StringFlag{Name: "weekly", Usage: "DAY[,DAY…]@HH:MM[,HH:MM…]"},
		&cli.StringFlag{Name: "tz", Usage: "IANA time zone (default UTC)"},
		&cli.StringFlag{Name: "keep-daily", Usage: "N days (0 drops the tier)"},
		&cli.StringFlag{Name: "keep-weekly", Usage: "N[:DAY] weeks (0 drops the tier)"},
		&cli.StringFlag{Name: "keep-monthly", Usage: "N[:RULE] months (RULE: 1-28, last, first-sun … last-sat; 0 drops the tier)"},
		&cli.StringFlag{Name: "keep-yearly", Usage: "N[:MONTH:RULE] years (0 drops the tier)"},
	}
}

func policyRequest(c *cli.Context, name string) daemon.PolicyRequest {
	return daemon.PolicyRequest{Name: name, Daily: c.String("daily"), Weekly: c.String("weekly"), TZ: c.String("tz"),
		KeepDaily: c.String("keep-daily"), KeepWeekly: c.String("keep-weekly"),
		KeepMonthly: c.String("keep-monthly"), KeepYearly: c.String("keep-yearly")}
}

func policyCommand() *cli.Command {
	req := &cli.StringFlag{Name: "vault", Usage: "the vault", Value: "default"}
	return &cli.Command{
		Name:  "policy",
		Usage: "schedules and retention",
		Subcommands: []*cli.Command{
			{Name: "create", ArgsUsage: "NAME", Usage: "create a policy: when to back up and what to keep", Flags: append(policyFlags(), req), Action: call(policyCreate)},
			{Name: "list", Usage: "list policies, one line each", Flags: []cli.Flag{req, jsonFlag}, Action: call(policyList)},
			{Name: "show", ArgsUsage: "NAME", Usage: "show a policy", Flags: []cli.Flag{req, jsonFlag}, Action: call(policyShow)},
			{Name: "set", ArgsUsage: "NAME", Usage: "change a policy (only the flags given; a keep flag of 0 drops that tier)", Flags: append(policyFlags(), req, jsonFlag), Action: call(policySet)},
			{Name: "delete", ArgsUsage: "NAME", Usage: "delete a policy no item uses", Flags: []cli.Flag{req}, Action: call(policyDelete)},
		},
	}
}

func policyPath(c *cli.Context, name string) string {
	p := "/v1/vaults/" + c.String("vault") + "/policies"
	if name != "" {
		p += "/" + name
	}
	return p
}

func policyCreate(c *cli.Context, a *api) error {
	name, err := oneArg(c, "policy NAME")
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.post(policyPath(c, ""), policyRequest(c, name), &v); err != nil {
		return err
	}
	return policyLine(c, v)
}

func policyList(c *cli.Context, a *api) error {
	var rows []map[string]any
	if err := a.get(policyPath(c, ""), &rows); err != nil {
		return err
	}
	return listing(c, rows, "name summary")
}

func policyShow(c *cli.Context, a *api) error {
	name, err := oneArg(c, "policy NAME")
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.get(policyPath(c, name), &v); err != nil {
		return err
	}
	return policyLine(c, v)
}

func policySet(c *cli.Context, a *api) error {
	name, err := oneArg(c, "policy NAME")
	if err != nil {
		return err
	}
	var v map[string]any
	if err := a.patch(policyPath(c, name), policyRequest(c, ""), &v); err != nil {
		return approvalHint(err)
	}
	return policyLine(c, v)
}

func policyDelete(c *cli.Context, a *api) error {
	name, err := oneArg(c, "policy NAME")
	if err != nil {
		return err
	}
	return a.del(policyPath(c, name), nil)
}

// policyLine prints a policy as its one-line summary, or as JSON.
func policyLine(c *cli.Context, v map[string]any) error {
	return show(c, v, func() error {
		fmt.Printf("%s: %s\n", cell(v["name"]), cell(v["summary"]))
		return nil
	})
}
