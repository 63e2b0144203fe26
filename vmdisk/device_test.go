package vmdisk

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// loopDevice attaches path to a free loop device, detached at cleanup.
func loopDevice(t *testing.T, path string) string {
	t.Helper()
	needTool(t, "losetup", "mount")
	dev := strings.TrimSpace(run(t, "losetup", "-f", "--show", path))
	t.Cleanup(func() { run(t, "losetup", "-d", dev) })
	return dev
}

// TestBlockDevice: a loop device is read whole (no allocation info), zero
// blocks are still markers; restore goes onto another device and is
// refused on the original without force.
func TestBlockDevice(t *testing.T) {
	ts := newTestStore(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.raw"), filepath.Join(dir, "b.raw")
	sparseFile(t, a, 24<<20)
	writeAt(t, a, 5<<20, randBytes(2<<20))
	sparseFile(t, b, 32<<20)
	writeAt(t, b, 0, randBytes(32<<20))
	devA, devB := loopDevice(t, a), loopDevice(t, b)

	r := backupT(t, ts, devA, nil, BackupOptions{})
	if r.BytesRead != 24<<20 || r.SourceBytes != 24<<20 || r.BlocksNew != 1 {
		t.Fatalf("device backup: read %d size %d new blocks %d", r.BytesRead, r.SourceBytes, r.BlocksNew)
	}
	ctx := context.Background()
	if _, err := Restore(ctx, ts, r.Root, devA, RestoreOptions{OriginalSource: devA}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore onto the original device without force: %v", err)
	}
	res, err := Restore(ctx, ts, r.Root, devB, RestoreOptions{OriginalSource: devA, Verify: true})
	if err != nil || !res.Verified {
		t.Fatalf("restore to another device: %v", err)
	}
	compareRange(t, devA, devB, 0, 24<<20)
}
