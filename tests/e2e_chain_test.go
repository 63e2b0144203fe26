package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EQcow2HostileBacking: an image whose header names /etc/shadow as
// its raw backing file (issue 12, finding 7) is refused at backup with an
// error naming the file, and no point is made.
func TestE2EQcow2HostileBacking(t *testing.T) {
	need(t, "qemu-img", "qemu-nbd")
	d := startDaemon(t, "")
	img := filepath.Join(d.dir, "evil.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/shadow", img, "1M")
	d.must("item", "add", "evil", "--disk", "qcow2:"+img)
	out, errOut, code := d.run("backup", "evil")
	if code == 0 || !strings.Contains(out+errOut, `"/etc/shadow"`) || !strings.Contains(out+errOut, "source_roots") {
		t.Fatalf("backup of an image backed by /etc/shadow: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var points []map[string]any
	d.jsonOf(&points, "points", "evil")
	if len(points) != 0 {
		t.Fatalf("a refused backup made points: %v", points)
	}
}

// TestE2EQcow2Rebase: `qemu-img rebase -u` onto another backing file between
// two bitmap backups makes the next one a hash compare with a warning,
// and the point restores the rebased content; the chain is in the point.
func TestE2EQcow2Rebase(t *testing.T) {
	need(t, "qemu-img", "qemu-io", "qemu-nbd")
	d := startDaemon(t, "")
	dir := filepath.Join(d.dir, "images")
	os.MkdirAll(dir, 0o755)
	inDir := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	for i, p := range []string{"0x11", "0x22"} {
		name := []string{"base1.raw", "base2.raw"}[i]
		inDir("qemu-img", "create", "-q", "-f", "raw", name, "16M")
		inDir("qemu-io", "-f", "raw", "-c", "write -P "+p+" 0 8M", name)
	}
	inDir("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "base1.raw", "vm.qcow2")
	img := filepath.Join(dir, "vm.qcow2")
	inDir("qemu-io", "-f", "qcow2", "-c", "write -P 0x33 8M 1M", "vm.qcow2")
	d.must("item", "add", "vm", "--disk", "qcow2:"+img, "--bitmap", "rw")
	d.must("backup", "vm")
	inDir("qemu-io", "-f", "qcow2", "-c", "write -P 0x44 12M 1M", "vm.qcow2")
	d.must("backup", "vm")
	inDir("qemu-img", "rebase", "-u", "-F", "raw", "-b", "base2.raw", "-f", "qcow2", "vm.qcow2")
	out, errOut, code := d.run("backup", "vm")
	if code != 3 {
		t.Fatalf("backup after rebase: exit %d, want 3 (completed with warnings)\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var points []map[string]any
	d.jsonOf(&points, "points", "vm")
	if len(points) != 3 {
		t.Fatalf("points: %v", points)
	}
	var job map[string]any
	d.jsonOf(&job, "job", "show", points[1]["job"].(string))
	if detail, _ := job["detail"].(string); !strings.HasPrefix(detail, "bitmap") {
		t.Fatalf("the backup before the rebase was not a bitmap incremental: %v", job)
	}
	d.jsonOf(&job, "job", "show", points[2]["job"].(string))
	detail, _ := job["detail"].(string)
	if !strings.HasPrefix(detail, "hash-compare") || !strings.Contains(strings.Join(toStrings(job["warnings"]), "\n"), "backing chain changed") {
		t.Fatalf("backup after rebase: %v", job)
	}
	if ch, ok := points[2]["chain"].([]any); !ok || len(ch) != 2 || !strings.HasSuffix(ch[1].(map[string]any)["path"].(string), "base2.raw") {
		t.Errorf("the point's chain: %v", points[2]["chain"])
	}
	want := rawCopy(t, img, filepath.Join(d.dir, "want.raw"))
	got := filepath.Join(d.dir, "restored.raw")
	d.must("restore", "disk", "vm", "--point", points[2]["id"].(string), "--to", got, "--verify")
	if b, err := os.ReadFile(got); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("the point after rebase restores other content than the rebased image (%v)", err)
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		} else if m, ok := x.(map[string]any); ok {
			out = append(out, m["message"].(string))
		}
	}
	return out
}
