package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDataDirLock starts a second daemon on a running daemon's data
// directory (with its own socket): it must exit non-zero at once, name the
// holder's pid, and never say "ready"; the first daemon keeps serving.
func TestDataDirLock(t *testing.T) {
	a := startDaemon(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rewindBin, "daemon", "--config", a.config, "--data", a.data,
		"--socket", filepath.Join(t.TempDir(), "b.sock"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Fatalf("second daemon on the same data dir: err %v, want a non-zero exit\n%s", err, logs.String())
	}
	pid := strconv.Itoa(a.cmd.Process.Pid)
	if out := logs.String(); !strings.Contains(out, "pid "+pid) || strings.Contains(out, "ready") {
		t.Fatalf("second daemon's output does not name holder pid %s (or says ready):\n%s", pid, out)
	}
	if b, err := os.ReadFile(filepath.Join(a.data, "daemon.lock")); err != nil || strings.TrimSpace(string(b)) != pid {
		t.Fatalf("lock file holds %q (%v), want the first daemon's pid %s", b, err, pid)
	}
	a.must("status")
	a.stop()
	a.start() // the lock is released on exit: the same data dir starts again
	a.must("status")
}
