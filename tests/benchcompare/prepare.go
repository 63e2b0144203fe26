package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// prepare installs missing tools, makes the work directory (removed at the
// end unless -keep, with every mount under it detached first) and builds
// rewind.
func prepare(ctx context.Context, cfg config, cl *cleanups) (*env, error) {
	if err := ensureTools(ctx, cfg); err != nil {
		return nil, err
	}
	work := cfg.Work
	if work == "" {
		dir, err := os.MkdirTemp("/var/tmp", "rewind-benchcompare-")
		if err != nil {
			return nil, err
		}
		work = dir
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	work, _ = filepath.Abs(work)
	work, _ = filepath.EvalSymlinks(work)
	if !cfg.Keep {
		cl.add(func() { os.RemoveAll(work) })
	} else {
		cl.add(func() { log.Printf("kept %s", work) })
	}
	cl.add(func() { unmountUnder(work) })
	e := &env{cfg: cfg, work: work, cl: cl}
	if e.cfg.Rewind == "" {
		e.cfg.Rewind = filepath.Join(work, "bin", "rewind")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", e.cfg.Rewind, "./cmd/rewind").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("build rewind (run from the repository root): %v\n%s", err, out)
		}
	}
	return e, nil
}

// ensureTools apt-get installs what the chosen tools need and is missing.
func ensureTools(ctx context.Context, cfg config) error {
	need := map[string]string{"qemu-img": "qemu-utils", "qemu-io": "qemu-utils", "fusermount3": "fuse3"}
	if strings.Contains(cfg.Tools, "restic") {
		need["restic"] = "restic"
	}
	if strings.Contains(cfg.Tools, "borg") {
		need["borg"] = "borgbackup"
	}
	var pkgs []string
	seen := map[string]bool{}
	for bin, pkg := range need {
		if _, err := exec.LookPath(bin); err != nil && !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	if strings.Contains(cfg.Tools, "borg") && exec.Command("/usr/bin/python3", "-c", "import llfuse").Run() != nil &&
		exec.Command("/usr/bin/python3", "-c", "import pyfuse3").Run() != nil {
		pkgs = append(pkgs, "python3-pyfuse3") // borg mount
	}
	if len(pkgs) == 0 {
		return nil
	}
	if cfg.NoInstall {
		return fmt.Errorf("missing packages %s: apt-get install them", strings.Join(pkgs, " "))
	}
	log.Printf("installing %s", strings.Join(pkgs, " "))
	install := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	if exec.CommandContext(ctx, "apt-get", install...).Run() == nil {
		return nil
	}
	if out, err := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, "apt-get", install...).CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}
