// Command benchcompare measures rewind against restic and borg on the same
// generated data: a VM-like disk image (full, incremental with a qcow2 dirty
// bitmap and by hash comparison, restore, sequential read through a FUSE
// mount) and a file tree (full, incremental, restore, first byte through a
// mount). It writes a markdown report (docs/bench-compare.md by default).
//
//	go run ./tests/benchcompare -disk-gib 8 -tree-files 100000 -tree-gib 4 -runs 3
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type config struct {
	Work        string
	Keep        bool
	DiskGiB     float64
	TreeFiles   int
	TreeGiB     float64
	Runs        int
	Seed        uint64
	Out         string
	Rewind      string
	StepTimeout time.Duration
	DropCaches  bool
	Verify      bool
	Tools       string
	BorgEnc     string
	NoInstall   bool
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.Work, "work", "", "work directory (default: a new directory under /var/tmp)")
	flag.BoolVar(&c.Keep, "keep", false, "keep the work directory at the end")
	flag.Float64Var(&c.DiskGiB, "disk-gib", 8, "size of the disk image in GiB")
	flag.IntVar(&c.TreeFiles, "tree-files", 100000, "number of files in the tree")
	flag.Float64Var(&c.TreeGiB, "tree-gib", 4, "total size of the tree in GiB")
	flag.IntVar(&c.Runs, "runs", 3, "runs of every tool")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed of the generated data")
	flag.StringVar(&c.Out, "out", "docs/bench-compare.md", "markdown report (also printed); empty: stdout only")
	flag.StringVar(&c.Rewind, "rewind", "", "rewind binary (default: built from ./cmd/rewind)")
	flag.DurationVar(&c.StepTimeout, "step-timeout", 60*time.Minute, "bound on every step")
	flag.BoolVar(&c.DropCaches, "drop-caches", true, "drop the page cache before every timed step (needs root)")
	flag.BoolVar(&c.Verify, "verify", true, "check every restore against the source")
	flag.StringVar(&c.Tools, "tools", "rewind,restic,borg", "tools to run")
	flag.StringVar(&c.BorgEnc, "borg-encryption", "repokey", "borg init --encryption mode")
	flag.BoolVar(&c.NoInstall, "no-install", false, "do not apt-get install missing tools")
	flag.Parse()
	return c
}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("benchcompare: ")
	cfg := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	cl := &cleanups{}
	err := benchmark(ctx, cfg, cl)
	cl.run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcompare:", err)
		os.Exit(1)
	}
}
