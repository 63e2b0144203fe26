package vmdisk

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// qcowFixture is a qcow2 image plus helpers driving real qemu tools.
type qcowFixture struct {
	t    *testing.T
	dir  string
	path string
	n    int
}

func newQcow(t *testing.T, size string) *qcowFixture {
	needTool(t, "qemu-img", "qemu-utils")
	needTool(t, "qemu-io", "qemu-utils")
	f := &qcowFixture{t: t, dir: t.TempDir()}
	f.path = filepath.Join(f.dir, "disk.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", f.path, size)
	return f
}

// write writes len bytes of pattern p at off with qemu-io.
func (f *qcowFixture) write(off, n int64, p byte) {
	run(f.t, "qemu-io", "-f", "qcow2", "-c", fmt.Sprintf("write -P %d %d %d", p, off, n), f.path)
}

// snapshot saves the image's current content as raw and returns the path.
func (f *qcowFixture) snapshot() string {
	f.n++
	raw := filepath.Join(f.dir, fmt.Sprintf("snap%d.raw", f.n))
	run(f.t, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", f.path, raw)
	return raw
}

func (f *qcowFixture) bitmap(op, name string) {
	run(f.t, "qemu-img", "bitmap", op, "-f", "qcow2", f.path, name)
}

func hasWarning(res *BackupResult, sub string) bool {
	for _, w := range res.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestQcow2BitmapIncremental(t *testing.T) {
	ts := newTestStore(t)
	f := newQcow(t, "64M")
	f.write(0, 1<<20, 1)
	f.write(20<<20, 64<<10, 2)
	src := "qcow2:" + f.path
	opts := BackupOptions{Bitmap: "B"}
	r1 := backupT(t, ts, src, nil, opts)
	if r1.Method != MethodFull || r1.BytesRead != 1<<20+64<<10 {
		t.Fatalf("full: method %s read %d", r1.Method, r1.BytesRead)
	}
	s1 := f.snapshot()
	sameFiles(t, s1, restoreT(t, ts, *prevOf(r1), RestoreOptions{}))

	f.write(40<<20, 64<<10, 3)
	f.write(8<<20+64<<10, 64<<10, 4)
	f.write(512<<10, 64<<10, 5)                                        // inside block 0's data: merged with the previous block
	run(t, "qemu-io", "-f", "qcow2", "-c", "write -z 0 65536", f.path) // zeroed: dirty but not read
	r2 := backupT(t, ts, src, prevOf(r1), opts)
	// three dirty 64 KiB clusters read, the zeroed one is known zero; the
	// canary's block is unallocated and costs nothing.
	if r2.Method != MethodBitmap || r2.Kind != "incremental" || r2.BytesRead != 192<<10 {
		t.Fatalf("incremental: method %s kind %s read %d, want bitmap 196608; warnings %v", r2.Method, r2.Kind, r2.BytesRead, r2.Warnings)
	}
	s2 := f.snapshot()
	sameFiles(t, s2, restoreT(t, ts, *prevOf(r2), RestoreOptions{}))
	sameFiles(t, s1, restoreT(t, ts, *prevOf(r1), RestoreOptions{}))

	r3 := backupT(t, ts, src, prevOf(r2), opts)
	if r3.Method != MethodBitmap || r3.BytesRead != 0 || r3.BlocksNew != 0 {
		t.Fatalf("no-change incremental: method %s read %d new blocks %d", r3.Method, r3.BytesRead, r3.BlocksNew)
	}
	out := run(t, "qemu-img", "info", f.path)
	if strings.Contains(out, "B.rewind.2") || !strings.Contains(out, "B.rewind.3") {
		t.Fatalf("generations not rotated:\n%s", out)
	}
}

func TestQcow2BitmapDistrust(t *testing.T) {
	ts := newTestStore(t)
	f := newQcow(t, "32M")
	f.write(0, 2<<20, 1)
	src := "qcow2:" + f.path
	opts := BackupOptions{Bitmap: "B"}
	r1 := backupT(t, ts, src, nil, opts)

	// deleted
	f.bitmap("--remove", "B.rewind.1")
	f.write(12<<20, 4096, 5)
	r2 := backupT(t, ts, src, prevOf(r1), opts)
	if r2.Method != MethodHashCompare || !hasWarning(r2, "missing") {
		t.Fatalf("deleted bitmap: method %s warnings %v", r2.Method, r2.Warnings)
	}
	sameFiles(t, f.snapshot(), restoreT(t, ts, *prevOf(r2), RestoreOptions{}))

	// recreated: a write lands while the bitmap is gone
	f.bitmap("--remove", "B.rewind.2")
	f.write(16<<20, 4096, 6)
	f.bitmap("--add", "B.rewind.2")
	f.write(24<<20, 4096, 7)
	r3 := backupT(t, ts, src, prevOf(r2), opts)
	if r3.Method != MethodHashCompare || !hasWarning(r3, "canary") {
		t.Fatalf("recreated bitmap: method %s warnings %v", r3.Method, r3.Warnings)
	}
	sameFiles(t, f.snapshot(), restoreT(t, ts, *prevOf(r3), RestoreOptions{}))

	// disabled: writes after the disable are not recorded
	f.bitmap("--disable", "B.rewind.3")
	f.write(28<<20, 4096, 8)
	r4 := backupT(t, ts, src, prevOf(r3), opts)
	if r4.Method != MethodHashCompare || !hasWarning(r4, "disabled") {
		t.Fatalf("disabled bitmap: method %s warnings %v", r4.Method, r4.Warnings)
	}
	sameFiles(t, f.snapshot(), restoreT(t, ts, *prevOf(r4), RestoreOptions{}))
	r3 = r4

	// restore as qcow2
	out := filepath.Join(t.TempDir(), "restored.qcow2")
	if _, err := Restore(t.Context(), ts, r3.Root, out, RestoreOptions{Format: "qcow2", Verify: true}); err != nil {
		t.Fatal(err)
	}
	run(t, "qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", f.path, out)
}

func TestQemuNBDPullMode(t *testing.T) {
	ts := newTestStore(t)
	f := newQcow(t, "32M")
	f.write(4<<20, 1<<20, 1)
	f.bitmap("--add", "c1")
	uri, stop := qemuNBD(t, f.path, "-r", "-B", "c1")
	r1 := backupT(t, ts, uri, nil, BackupOptions{Bitmap: "c1", Checkpoint: "c1"})
	stop()
	f.write(20<<20, 64<<10, 2)
	f.bitmap("--add", "c2")
	uri, stop = qemuNBD(t, f.path, "-r", "-B", "c1")
	r2 := backupT(t, ts, uri, prevOf(r1), BackupOptions{Bitmap: "c1", BitmapSince: "c1", Checkpoint: "c2"})
	if r2.Method != MethodBitmap || r2.BytesRead != 64<<10 {
		t.Fatalf("pull incremental: method %s read %d warnings %v", r2.Method, r2.BytesRead, r2.Warnings)
	}
	snap := f.snapshot()
	sameFiles(t, snap, restoreT(t, ts, *prevOf(r2), RestoreOptions{}))
	r3 := backupT(t, ts, uri, prevOf(r2), BackupOptions{Bitmap: "c1", BitmapSince: "c1", Checkpoint: "c3"})
	if r3.Method != MethodHashCompare || !hasWarning(r3, "checkpoint") {
		t.Fatalf("wrong checkpoint: method %s warnings %v", r3.Method, r3.Warnings)
	}
	stop()
	sameFiles(t, snap, restoreT(t, ts, *prevOf(r3), RestoreOptions{}))
}
