package tests

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EInvalidConfigExitsTwo: the real daemon refuses a bad value at start
// with exit 2 and a message naming the key and the rule, before it opens
// anything (no socket, no data directory).
func TestE2EInvalidConfigExitsTwo(t *testing.T) {
	cases := map[string]string{
		"sweep_at = \"25:00\"\n":                           "sweep_at = \"25:00\": want a time of day HH:MM from 00:00 to 23:59",
		"shutdown_timeout = \"0s\"\n":                      "shutdown_timeout = \"0s\": want a duration from 1s to 1h0m0s",
		"data = \"var/lib/rewind\"\n":                      "data = \"var/lib/rewind\": want an absolute path",
		"metrics_listen = \"9469\"\n":                      "metrics_listen = \"9469\": want HOST:PORT",
		"mount_expire = \"forever\"\n":                     "mount_expire",
		"memory_limit = \"lots\"\n":                        "memory_limit",
		"[vaults.prod]\npassphrase_file = \"prod.pass\"\n": "vaults.prod.passphrase_file",
	}
	for text, want := range cases {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "rewind.toml")
		if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, rewindBin, "daemon", "--config", cfg,
			"--data", filepath.Join(dir, "data"), "--socket", filepath.Join(dir, "s.sock"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), want) {
			t.Errorf("%q: %v, stderr %q; want exit 2 naming %q", text, err, stderr.String(), want)
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
			t.Errorf("%q: the data directory was created although the config is invalid", text)
		}
	}
}
