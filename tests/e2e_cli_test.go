package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCLICommands covers the commands the other tests do not: policy
// list/show/delete, item stop/resume, usage, job cancel, token revoke.
func TestCLICommands(t *testing.T) {
	d, remote := tcpDaemon(t)
	d.must("policy", "create", "weekly", "--weekly", "sat,sun@03:00", "--tz", "Europe/Berlin", "--keep-weekly", "8:sat")
	var pols []map[string]any
	d.jsonOf(&pols, "policy", "list")
	if len(pols) != 2 {
		t.Fatalf("policies: %v", pols)
	}
	if out := d.must("policy", "show", "weekly"); !strings.Contains(out, "Europe/Berlin") {
		t.Errorf("policy show:\n%s", out)
	}
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--policy", "weekly", "--share", src)
	if _, errOut, code := d.run("policy", "delete", "weekly"); code == 0 || !strings.Contains(errOut, "files") {
		t.Fatalf("deleting a policy in use: exit %d %q", code, errOut)
	}
	d.must("backup", "files")

	// A cancelled backup ends cancelled and leaves no point.
	slow := nbdkitSlow(t, d.dir, "random", "64M", "4M")
	d.must("item", "add", "slow", "--disk", slow)
	d.must("backup", "slow", "--no-wait")
	id := waitRunning(t, d, "slow")
	d.must("job", "cancel", id)
	if _, _, code := d.run("job", "watch", id); code != 1 {
		t.Errorf("watching a cancelled job: exit %d, want 1", code)
	}
	var job map[string]any
	d.jsonOf(&job, "job", "show", id)
	var points []map[string]any
	d.jsonOf(&points, "points", "slow")
	if job["status"] != "cancelled" || len(points) != 0 {
		t.Fatalf("cancelled backup: %v, points %v", job["status"], points)
	}

	d.must("item", "stop", "files")
	if _, _, code := d.run("backup", "files"); code == 0 {
		t.Error("a stopped item must not take backups")
	}
	d.must("item", "resume", "files")
	d.must("backup", "files")
	var usage []map[string]any
	d.jsonOf(&usage, "usage")
	if len(usage) != 2 || usage[0]["points"] == nil {
		t.Fatalf("usage: %v", usage)
	}

	var tok map[string]any
	d.jsonOf(&tok, "token", "create", "--role", "reader")
	args := append(append([]string{}, remote...), "points", "files", "--token", tok["secret"].(string))
	d.must(args...)
	d.must("token", "revoke", tok["id"].(string))
	if _, _, code := d.run(args...); code != 5 {
		t.Errorf("a revoked token: exit %d, want 5", code)
	}
}
