package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// measure is one timed step of one tool.
type measure struct {
	Wall time.Duration
	RSS  int64 // peak resident bytes of the process doing the work
	CLI  int64 // rewind only: peak of the CLI client, reported beside RSS
}

// cmdSpec describes one child process.
type cmdSpec struct {
	Dir  string
	Env  []string
	Args []string
}

// command builds an exec.Cmd in its own process group that is sent SIGTERM
// (then SIGKILL after 30 s) when ctx ends.
func command(ctx context.Context, s cmdSpec) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.Args[0], s.Args[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

// run runs a child to completion within timeout and returns its wall time,
// its peak RSS (from rusage) and its stdout.
func run(ctx context.Context, timeout time.Duration, s cmdSpec) (measure, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := command(ctx, s)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	m := measure{Wall: time.Since(start), RSS: maxRSS(cmd.ProcessState)}
	if err != nil {
		return m, out.String(), fmt.Errorf("%s: %w\n%s%s", strings.Join(s.Args, " "), err, tail(out.String()), tail(errb.String()))
	}
	return m, out.String(), nil
}

// maxRSS reads ru_maxrss (KiB on Linux) of an ended process.
func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// vmHWM reads the peak resident set of a live process from /proc.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			var kib int64
			fmt.Sscan(f[1], &kib)
			return kib * 1024
		}
	}
	return 0
}
