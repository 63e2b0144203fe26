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

// TestForgedCreateMarker: a create marker planted in an empty vault
// directory, listing "../victim" among what create wrote, must not make the
// start-up remove another vault: nothing outside the marker's own directory
// is ever removed, and the forged marker is refused naming the entry.
func TestForgedCreateMarker(t *testing.T) {
	d := startDaemon(t, "")
	d.createVault("victim")
	d.stop()
	evil := filepath.Join(d.data, "vaults", "evil")
	if err := os.MkdirAll(evil, 0o700); err != nil {
		t.Fatal(err)
	}
	marker := `{"format":"rewind-create-in-progress","v":1,"name":"evil","store":"store","writes":["store","../victim"]}`
	if err := os.WriteFile(filepath.Join(evil, "create-in-progress"), []byte(marker), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	if _, err := os.Stat(filepath.Join(d.data, "vaults", "victim", "vault.json")); err != nil {
		t.Fatalf("a forged create marker removed another vault: %v\n%s", err, d.logs.String())
	}
	if out := d.must("vault", "list"); !strings.Contains(out, "victim") {
		t.Fatalf("vault list after the forged marker:\n%s", out)
	}
	if !strings.Contains(d.logs.String(), "../victim") {
		t.Fatalf("the refusal does not name the forged entry:\n%s", d.logs.String())
	}
}
