package vmdisk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// qemuNBDRunning reports whether a qemu-nbd serving path is alive.
func qemuNBDRunning(path string) bool {
	cmds, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, c := range cmds {
		b, err := os.ReadFile(c)
		if err == nil && strings.Contains(string(b), "qemu-nbd") && strings.Contains(string(b), path) {
			return true
		}
	}
	return false
}

// TestQcow2BackupCancelled: a cancelled backup fails, stops its qemu-nbd,
// drops the generation it added, and the next backup is still incremental.
func TestQcow2BackupCancelled(t *testing.T) {
	ts := newTestStore(t)
	f := newQcow(t, "32M")
	f.write(0, 8<<20, 1)
	src := "qcow2:" + f.path
	opts := BackupOptions{Bitmap: "B"}
	r1 := backupT(t, ts, src, nil, opts)
	f.write(16<<20, 8<<20, 2)

	ctx, cancel := context.WithCancel(context.Background())
	w := ts.NewWriter()
	o := opts
	o.Progress = func(done, total int64) { cancel() }
	res, err := Backup(ctx, w, ts, src, prevOf(r1), o)
	w.Close()
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("cancelled backup: %v", err)
	}
	if qemuNBDRunning(f.path) {
		t.Fatal("qemu-nbd still running after a cancelled backup")
	}
	if info := run(t, "qemu-img", "info", f.path); strings.Contains(info, "B.rewind.2") {
		t.Fatalf("the cancelled backup's generation was left behind:\n%s", info)
	}
	r2 := backupT(t, ts, src, prevOf(r1), opts)
	if r2.Method != MethodBitmap || r2.BytesRead != 8<<20 {
		t.Fatalf("after a cancelled run: method %s read %d %v", r2.Method, r2.BytesRead, r2.Warnings)
	}
	sameFiles(t, f.snapshot(), restoreT(t, ts, *prevOf(r2), RestoreOptions{}))
}

func TestRawQcow2Refused(t *testing.T) {
	f := newQcow(t, "8M")
	ts := newTestStore(t)
	_, err := Backup(context.Background(), ts.NewWriter(), ts, f.path, nil, BackupOptions{})
	if err == nil || !strings.Contains(err.Error(), "qcow2:"+f.path) {
		t.Fatalf("a qcow2 image given as raw: %v", err)
	}
}
