package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSocketPathNotASocket: a --socket that names an existing regular file
// (a typo, or a hostile config) is refused naming it; the file is kept.
func TestSocketPathNotASocket(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, rewindBin, "daemon", "--config", "/dev/null",
		"--data", filepath.Join(dir, "data"), "--socket", victim).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), victim) {
		t.Errorf("daemon with --socket on a regular file: %v, want a non-zero exit naming it:\n%s", err, out)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me\n" {
		t.Fatalf("the file at --socket was removed or changed: %q %v", b, err)
	}
}
