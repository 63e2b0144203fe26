package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealSchedule sets a daily time at the next whole minute and waits for
// the scheduler to take the point on its own.
func TestRealSchedule(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	at := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	if time.Until(at) < 5*time.Second {
		at = at.Add(time.Minute)
	}
	d.must("policy", "create", "soon", "--daily", at.Format("15:04"), "--keep-daily", "3")
	d.must("item", "add", "files", "--policy", "soon", "--share", src)
	var item map[string]any
	d.jsonOf(&item, "item", "show", "files")
	if next, _ := time.Parse(time.RFC3339, item["next_run"].(string)); !next.Equal(at) {
		t.Fatalf("next run %v, want %v", item["next_run"], at)
	}
	deadline := at.Add(45 * time.Second)
	for time.Now().Before(deadline) {
		var points []map[string]any
		d.jsonOf(&points, "points", "files")
		if len(points) == 1 {
			var jobs []map[string]any
			d.jsonOf(&jobs, "jobs", "--item", "files")
			if len(jobs) != 1 || jobs[0]["requested_by"] != "scheduler" {
				t.Fatalf("jobs: %v", jobs)
			}
			if tiers, _ := points[0]["tiers"].([]any); len(tiers) == 0 {
				t.Errorf("a scheduled point belongs to the daily tier: %v", points[0])
			}
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("no scheduled point by %v", deadline)
}

// TestSystemdUnit checks the shipped unit with systemd-analyze verify.
func TestSystemdUnit(t *testing.T) {
	need(t, "systemd-analyze")
	unit, err := os.ReadFile("../etc/rewind.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/rewind", rewindBin)
	path := filepath.Join(dir, "rewind.service")
	os.WriteFile(path, []byte(text), 0o644)
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "rewind.service:") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
