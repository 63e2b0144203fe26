package vmdisk

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func smallDisk(t *testing.T) (*testStore, string, *BackupResult) {
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, disk, 12<<20)
	writeAt(t, disk, 1<<20, randBytes(6<<20))
	return ts, disk, backupT(t, ts, disk, nil, BackupOptions{})
}

func TestRestoreOntoOriginal(t *testing.T) {
	ts, disk, r := smallDisk(t)
	orig, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	writeAt(t, disk, 2<<20, randBytes(1<<20)) // the disk moves on
	ctx := context.Background()
	_, err = Restore(ctx, ts, r.Root, disk, RestoreOptions{OriginalSource: disk})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore onto the original without force: %v", err)
	}
	// through another name of the same file
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(disk, link)
	if _, err := Restore(ctx, ts, r.Root, link, RestoreOptions{OriginalSource: disk}); err == nil {
		t.Fatal("restore through a symlink to the original was allowed")
	}
	res, err := Restore(ctx, ts, r.Root, disk, RestoreOptions{OriginalSource: disk, Force: true, Verify: true})
	if err != nil || !res.Verified {
		t.Fatalf("forced restore: %v", err)
	}
	got, _ := os.ReadFile(disk)
	if string(got) != string(orig) {
		t.Fatal("forced restore did not bring back the point")
	}
}

func TestRestoreRefusesBusyTarget(t *testing.T) {
	ts, _, r := smallDisk(t)
	target := filepath.Join(t.TempDir(), "busy.img")
	sparseFile(t, target, 1<<20)
	cmd := exec.Command("sh", "-c", `exec 3<>"$1"; sleep 30`, "sh", target)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := Restore(context.Background(), ts, r.Root, target, RestoreOptions{Force: true})
		if err != nil && strings.Contains(err.Error(), "is open in process") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore onto a file another process holds open: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// corruptingSink flips a byte in every write of block 1: a disk that
// silently corrupts, for Verify to catch.
type corruptingSink struct{ sink }

func (c corruptingSink) WriteAt(ctx context.Context, p []byte, off int64) error {
	if off == BlockSize {
		q := append([]byte(nil), p...)
		q[100] ^= 0xff
		p = q
	}
	return c.sink.WriteAt(ctx, p, off)
}

func TestVerifyCatchesCorruptTarget(t *testing.T) {
	ts, _, r := smallDisk(t)
	ctx := context.Background()
	m, err := loadRoot(ctx, ts, r.Root)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.img")
	fs, err := openFileSink(out, m.size)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	_, err = restoreTo(ctx, ts, m, corruptingSink{fs}, RestoreOptions{Verify: true})
	if err == nil || !strings.Contains(err.Error(), "block 1 ") {
		t.Fatalf("verify did not name the corrupt block: %v", err)
	}
	if _, err := restoreTo(ctx, ts, m, corruptingSink{fs}, RestoreOptions{}); err != nil {
		t.Fatalf("without verify the write itself succeeds: %v", err)
	}
}

func TestRestoreCancelled(t *testing.T) {
	ts, _, r := smallDisk(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := filepath.Join(t.TempDir(), "out.img")
	_, err := Restore(ctx, ts, r.Root, out, RestoreOptions{Progress: func(done, total int64) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled restore: %v", err)
	}
}
