package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIItemSet changes an item's policy, hooks and bandwidth with
// "rewind item set" and checks who may.
func TestCLIItemSet(t *testing.T) {
	d, remote := tcpDaemon(t)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("policy", "create", "long", "--daily", "01:00", "--keep-daily", "60")
	d.must("item", "set", "files", "--policy", "long", "--pre-freeze", "/bin/true", "--work-hours-rate", "50MB/s")
	var it map[string]any
	d.jsonOf(&it, "item", "show", "files")
	if it["policy"] != "long" || it["pre_freeze"] != "/bin/true" || it["bandwidth"] == nil {
		t.Fatalf("after item set: %v", it)
	}
	d.must("item", "set", "files", "--pre-freeze", "", "--vault-rates")
	it = nil
	d.jsonOf(&it, "item", "show", "files")
	if it["pre_freeze"] != nil || it["bandwidth"] != nil || it["policy"] != "long" {
		t.Fatalf("after removing the hook and the rates: %v", it)
	}
	if _, errOut, code := d.run("item", "set", "files"); code != 2 || !strings.Contains(errOut, "nothing to change") {
		t.Fatalf("item set without a change: exit %d %q", code, errOut)
	}
	if _, _, code := d.run("item", "set", "files", "--policy", "nosuch"); code != 4 {
		t.Fatalf("item set to a missing policy: exit %d, want 4", code)
	}
	op := asToken(remote, d.token("backup-operator"))
	if _, errOut, code := d.run(op("item", "set", "files", "--pre-freeze", "/bin/sh")...); code != 5 {
		t.Fatalf("a backup operator set a hook: exit %d %q", code, errOut)
	}
	// With multi-user approval, moving to a policy that keeps less is refused.
	d.must("vault", "set", "default", "--multi-user-approval")
	d.must("policy", "create", "short", "--daily", "01:00", "--keep-daily", "3")
	if _, errOut, code := d.run("item", "set", "files", "--policy", "short"); code != 5 || !strings.Contains(errOut, "rewind policy set long") {
		t.Fatalf("moving to a shorter policy under approvals: exit %d %q", code, errOut)
	}
}

// TestCLIJobsFilters: "rewind jobs" filters by state and keeps the newest N,
// newest first in the table.
func TestCLIJobsFilters(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	d.must("backup", "files")
	var all, last []map[string]any
	d.jsonOf(&all, "jobs", "--status", "completed")
	d.jsonOf(&last, "jobs", "--limit", "1")
	if len(all) != 2 || len(last) != 1 || last[0]["id"] != all[1]["id"] {
		t.Fatalf("jobs --status completed: %v; --limit 1: %v", all, last)
	}
	var active []map[string]any
	d.jsonOf(&active, "jobs", "--active")
	if len(active) != 0 {
		t.Fatalf("jobs --active with nothing running: %v", active)
	}
	out := d.must("jobs")
	newer, older := strings.Index(out, all[1]["id"].(string)), strings.Index(out, all[0]["id"].(string))
	if newer < 0 || older < 0 || newer > older {
		t.Fatalf("jobs table is not newest first:\n%s", out)
	}
	if _, errOut, code := d.run("jobs", "--status", "done"); code != 2 || !strings.Contains(errOut, "completed-with-warnings") {
		t.Fatalf("jobs --status done: exit %d %q", code, errOut)
	}
}
