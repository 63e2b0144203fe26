package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestNBDPullModeCheckpoints emulates libvirt's pull-mode backup with
// qemu-nbd: the pre-freeze hook creates the checkpoint the daemon names in
// REWIND_CHECKPOINT and exports, as bitmap "export", the changes since
// REWIND_CHECKPOINT_SINCE; the post-thaw hook ends the export. The second
// backup is a trusted bitmap incremental that reads only what qemu-io wrote.
func TestNBDPullModeCheckpoints(t *testing.T) {
	need(t, "qemu-img", "qemu-io", "qemu-nbd")
	d := startDaemon(t, "")
	dir := filepath.Join(d.dir, "vm")
	os.MkdirAll(dir, 0o755)
	img := filepath.Join(dir, "img.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", img, "32M")
	sh(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 6M", img)
	pre := fmt.Sprintf(`set -e; cd %s
if [ -n "$REWIND_CHECKPOINT_SINCE" ]; then
  qemu-img bitmap --add img.qcow2 export
  qemu-img bitmap --merge "$REWIND_CHECKPOINT_SINCE" img.qcow2 export
  B="-B export"
fi
qemu-img bitmap --add img.qcow2 "$REWIND_CHECKPOINT"
qemu-nbd --fork --pid-file nbd.pid -r -k %s/nbd.sock $B img.qcow2`, dir, dir)
	post := fmt.Sprintf(`cd %s; p=$(cat nbd.pid); kill $p; while kill -0 $p 2>/dev/null; do sleep 0.05; done
qemu-img bitmap --remove img.qcow2 export 2>/dev/null; true`, dir)
	preFile, postFile := filepath.Join(d.dir, "pre.sh"), filepath.Join(d.dir, "post.sh")
	os.WriteFile(preFile, []byte(pre), 0o755)
	os.WriteFile(postFile, []byte(post), 0o755)
	spec := "nbd+unix:///?socket=" + filepath.Join(dir, "nbd.sock")
	d.must("item", "add", "vm-pull", "--disk", spec, "--bitmap", "export", "--pre-freeze", preFile, "--post-thaw", postFile)
	d.must("backup", "vm-pull")
	sh(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x21 20M 1M", img)
	d.must("backup", "vm-pull") // exit 0: no warning, the bitmap was trusted
	var points []map[string]any
	d.jsonOf(&points, "points", "vm-pull")
	if len(points) != 2 || points[1]["kind"] != "incremental" || points[1]["bytes_read"].(float64) != 1<<20 {
		t.Fatalf("the pull-mode incremental should read the 1 MiB written: %v", points)
	}
	want := rawCopy(t, img, filepath.Join(d.dir, "want.raw"))
	out := filepath.Join(d.dir, "restored.raw")
	d.must("restore", "disk", "vm-pull", "--point", "latest", "--to", out)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, want) {
		t.Fatal("the restored pull-mode point differs from the image")
	}
}
