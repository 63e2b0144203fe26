package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsistencyLevels: a succeeding pre-freeze hook gives an
// application-consistent point and post-thaw runs; a failing hook on a share
// allowed to freeze its own file system gives file-system consistency with
// the reason recorded; nothing gives crash consistency.
func TestConsistencyLevels(t *testing.T) {
	need(t, "mkfs.ext4", "mount")
	d := startDaemon(t, "")
	img := filepath.Join(d.dir, "fs.img")
	f, _ := os.Create(img)
	f.Truncate(64 << 20)
	f.Close()
	sh(t, "mkfs.ext4", "-q", img)
	mnt := filepath.Join(d.dir, "share")
	os.MkdirAll(mnt, 0o755)
	sh(t, "mount", "-o", "loop", img, mnt)
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	makeTree(t, filepath.Join(mnt, "tree"))
	thawed := filepath.Join(d.dir, "thawed")

	d.must("item", "add", "app", "--share", mnt, "--pre-freeze", "true", "--post-thaw", "touch "+thawed)
	d.must("item", "add", "fsc", "--share", mnt, "--pre-freeze", "exit 3", "--fsfreeze")
	d.must("item", "add", "crash", "--share", mnt)
	want := map[string]string{"app": "application", "fsc": "file-system", "crash": "crash"}
	for item, level := range want {
		out, _, code := d.run("backup", item)
		// A failing pre-freeze completes with warnings (exit 3), saying why.
		if wantCode := map[bool]int{true: 3, false: 0}[item == "fsc"]; code != wantCode ||
			item == "fsc" && !strings.Contains(out, "pre-freeze hook failed: exit status 3 (its output is in the daemon's log); the point is file-system-consistent") {
			t.Errorf("backup %s: exit %d, want %d:\n%s", item, code, wantCode, out)
		}
		var points []map[string]any
		d.jsonOf(&points, "points", item)
		if len(points) != 1 || points[0]["consistency"] != level {
			t.Errorf("%s: point %v, want %s consistency", item, points, level)
		}
		if item == "fsc" && !strings.Contains(points[0]["consistency_reason"].(string), "pre-freeze hook failed") {
			t.Errorf("fsc: the reason should say why the hook failed: %v", points[0]["consistency_reason"])
		}
	}
	if _, err := os.Stat(thawed); err != nil {
		t.Error("post-thaw did not run after the pre-freeze hook")
	}
	// The file system is thawed: writes go through.
	if err := os.WriteFile(filepath.Join(mnt, "after"), []byte("x"), 0o644); err != nil {
		t.Fatalf("write after the backup: %v", err)
	}
}
