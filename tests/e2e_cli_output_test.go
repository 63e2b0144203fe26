package tests

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIHumanOutput checks the tables people read: sizes in IEC units, no
// JSON in cells, one-line policies, a TIERS column, states that agree.
func TestCLIHumanOutput(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("policy", "create", "pol", "--daily", "01:00", "--keep-daily", "7", "--keep-weekly", "4:sun")
	d.must("item", "add", "files", "--share", src, "--policy", "pol")
	d.must("backup", "files")

	iec := regexp.MustCompile(`\d(\.\d)? (B|KiB|MiB|GiB)\b`)
	points := d.must("points", "files")
	if !strings.Contains(points, "TIERS") || !iec.MatchString(points) {
		t.Errorf("points table wants a TIERS column and IEC sizes:\n%s", points)
	}
	if usage := d.must("usage"); !iec.MatchString(usage) {
		t.Errorf("usage wants IEC sizes:\n%s", usage)
	}
	for _, args := range [][]string{{"item", "list"}, {"item", "show", "files"}, {"status"}, {"points", "files"}} {
		if out := d.must(args...); strings.ContainsAny(out, "{}") {
			t.Errorf("rewind %s shows raw JSON:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := d.must("item", "list"); !strings.Contains(out, src) {
		t.Errorf("item list SOURCE wants the share path %s:\n%s", src, out)
	}
	// policy show and set: one line; a keep flag of 0 drops that tier.
	if out := d.must("policy", "show", "pol"); strings.Count(out, "\n") != 1 || !strings.Contains(out, "week") {
		t.Errorf("policy show pol: %q", out)
	}
	if out := d.must("policy", "set", "pol", "--keep-weekly", "0"); strings.Contains(out, "week") {
		t.Errorf("policy set --keep-weekly 0 kept the weekly tier: %q", out)
	}

	// A stopped item has no next run; a soft-deleted one's points show the purge.
	d.must("item", "stop", "files")
	var it map[string]any
	d.jsonOf(&it, "item", "show", "files")
	if _, ok := it["next_run"]; ok {
		t.Errorf("a stopped item has a next_run: %v", it)
	}
	d.must("item", "resume", "files")
	d.must("item", "stop", "files", "--delete-data")
	var pts []map[string]any
	d.jsonOf(&pts, "points", "files")
	if len(pts) == 0 || pts[0]["purge_at"] == nil {
		t.Fatalf("points of a soft-deleted item want purge_at: %v", pts)
	}
	if out := d.must("points", "files"); !strings.Contains(out, "purged at") || !strings.Contains(out, "rewind item undelete files") {
		t.Errorf("points of a soft-deleted item:\n%s", out)
	}
}
