package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShareLifecycle drives the real daemon only through the CLI: vault and
// policy, a share item, backups, points, a mount, a restore, stop with
// delete, undelete.
func TestShareLifecycle(t *testing.T) {
	need(t, "fusermount3")
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)

	var vaults []map[string]any
	d.jsonOf(&vaults, "vault", "list")
	if len(vaults) != 1 || vaults[0]["name"] != "default" || vaults[0]["locked"] != false {
		t.Fatalf("first start should create an unlocked default vault, got %v", vaults)
	}
	d.createVault("prod")
	d.must("policy", "create", "nightly", "--vault", "prod", "--daily", "01:00", "--keep-daily", "7", "--keep-weekly", "4:sun")
	d.must("item", "add", "files", "--vault", "prod", "--policy", "nightly", "--share", src)
	out := d.must("backup", "files")
	if !strings.Contains(out, "completed") {
		t.Fatalf("backup: %s", out)
	}
	if err := os.WriteFile(filepath.Join(src, "docs/new.txt"), []byte("added later"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.must("backup", "files")
	var points []map[string]any
	d.jsonOf(&points, "points", "files")
	if len(points) != 2 || points[0]["kind"] != "full" || points[1]["kind"] != "incremental" {
		t.Fatalf("points: %v", points)
	}
	if points[0]["expires"] == nil || points[0]["expires"] == "never" || points[0]["bytes_new"].(float64) <= 0 {
		t.Fatalf("on-demand points expire after 30 days and stored new bytes: %v", points[0])
	}

	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	d.must("mount", mnt, "--vault", "prod")
	compareTrees(t, src, filepath.Join(mnt, "files", points[1]["id"].(string)))
	if target, err := os.Readlink(filepath.Join(mnt, "files", "latest")); err != nil || target != points[1]["id"] {
		t.Errorf("latest -> %q (%v), want %v", target, err, points[1]["id"])
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "files", points[0]["id"].(string), "docs/new.txt")); err == nil {
		t.Fatalf("the first point must not hold a file added later, read %q", b)
	}
	if err := os.WriteFile(filepath.Join(mnt, "files", "latest", "x"), nil, 0o644); err == nil {
		t.Fatal("writing into a mount must fail")
	}
	var mounts []map[string]any
	d.jsonOf(&mounts, "mounts")
	if len(mounts) != 1 {
		t.Fatalf("mounts: %v", mounts)
	}
	d.must("umount", mnt)

	dst := filepath.Join(d.dir, "restored")
	d.must("restore", "share", "files", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)

	d.must("item", "stop", "files", "--delete-data")
	var item map[string]any
	d.jsonOf(&item, "item", "show", "files")
	if item["state"] != "protection-stopped-deleted" {
		t.Fatalf("after stop --delete-data: %v", item["state"])
	}
	d.must("item", "undelete", "files")
	d.jsonOf(&points, "points", "files")
	if len(points) != 2 {
		t.Fatalf("undelete must bring the points back: %v", points)
	}
}

// TestCLIErrors checks exit codes and messages of common mistakes.
func TestCLIErrors(t *testing.T) {
	d := startDaemon(t, "")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"item", "show", "nope"}, 4, "not found"},
		{[]string{"vault", "create", "1bad", "--passphrase-file", "/dev/null"}, 2, ""},
		{[]string{"backup"}, 2, "ITEM"},
		{[]string{"policy", "create", "p", "--daily", "25:00", "--keep-daily", "7"}, 2, "25:00"},
		{[]string{"job", "show", "nosuchjob"}, 4, "not found"},
	}
	for _, c := range cases {
		_, errOut, code := d.run(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("rewind %s: exit %d %q, want exit %d containing %q", strings.Join(c.args, " "), code, errOut, c.code, c.want)
		}
	}
	_, errOut, code := d.runEnv([]string{"REWIND_SOCKET=" + filepath.Join(d.dir, "none.sock")}, "status")
	if code == 0 || !strings.Contains(errOut, "no rewind daemon") {
		t.Errorf("status without a daemon: exit %d %q", code, errOut)
	}
}
