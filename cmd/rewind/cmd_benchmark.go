package main

import (
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

// benchmarkCommand prints this machine's stage limits; with --vault the
// daemon also measures the vault's shard targets and its profile.
func benchmarkCommand() *cli.Command {
	return &cli.Command{Name: "benchmark", Usage: "measure this machine's pipeline stage limits (and a vault's shard targets)",
		Flags: []cli.Flag{&cli.StringFlag{Name: "vault", Usage: "also measure this vault's shard targets, for its profile"},
			&cli.DurationFlag{Name: "time", Value: 300 * time.Millisecond, Usage: "time per stage and core count"}, jsonFlag},
		Action: func(c *cli.Context) error {
			var rep daemon.BenchmarkReply
			if v := c.String("vault"); v != "" {
				a, err := connect(c)
				if err != nil {
					return err
				}
				if err := a.post("/v1/vaults/"+v+"/benchmark", nil, &rep); err != nil {
					return err
				}
			} else {
				stages, err := daemon.MeasureStages(c.Context, 4, 2, c.Duration("time"))
				if err != nil {
					return err
				}
				rep.Stages = stages
			}
			return show(c, rep, func() error { return printBenchmark(rep) })
		}}
}

func printBenchmark(rep daemon.BenchmarkReply) error {
	fmt.Printf("stage limits on %d cores, GB/s of input (4 MiB buffers of mixed data)\n", runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tONE CORE\tALL CORES")
	for _, s := range rep.Stages {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\n", s.Stage, s.OneCore, s.AllCores)
	}
	if t := rep.Targets; t != nil {
		fmt.Fprintf(tw, "shard targets of %s (%d, in parallel): write\t\t%.2f\n", rep.Vault, t.Targets, t.WriteGBps)
		fmt.Fprintf(tw, "shard targets of %s (%d, in parallel): read\t\t%.2f\n", rep.Vault, t.Targets, t.ReadGBps)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Println("verdict:", daemon.Verdict(rep.Stages, rep.Targets))
	return nil
}
