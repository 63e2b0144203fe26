package vmdisk

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestNBDKitReadAndRestore(t *testing.T) {
	ts := newTestStore(t)
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.raw")
	sparseFile(t, disk, 40<<20)
	writeAt(t, disk, 5<<20, randBytes(3<<20))
	writeAt(t, disk, 39<<20, randBytes(1<<20))
	uri := nbdkitFile(t, disk)
	r1 := backupT(t, ts, uri, nil, BackupOptions{})
	if r1.BytesRead > 8<<20 {
		t.Errorf("read %d bytes; base:allocation should skip holes", r1.BytesRead)
	}
	sameFiles(t, disk, restoreT(t, ts, *prevOf(r1), RestoreOptions{}))

	// restore through NBD into another nbdkit-served file
	out := filepath.Join(dir, "out.raw")
	sparseFile(t, out, 40<<20)
	writeAt(t, out, 0, randBytes(9<<20)) // garbage that must be overwritten
	outURI := nbdkitFile(t, out)
	res, err := Restore(context.Background(), ts, r1.Root, outURI, RestoreOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified {
		t.Error("not verified")
	}
	sameFiles(t, disk, out)
}

// countingLimiter records the throttled byte counts.
type countingLimiter struct{ n, calls int64 }

func (c *countingLimiter) WaitN(ctx context.Context, n int) error {
	c.n += int64(n)
	c.calls++
	return ctx.Err()
}

func TestNBDOverTCPWithLimiter(t *testing.T) {
	needTool(t, "nbdkit", "nbdkit")
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, disk, 20<<20)
	writeAt(t, disk, 3<<20, randBytes(5<<20))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	startServerOn(t, "tcp", addr, "nbdkit", "-f", "-i", "127.0.0.1", "-p", fmt.Sprint(port), "file", "file="+disk)
	lim := &countingLimiter{}
	r := backupT(t, ts, "nbd://"+addr+"/", nil, BackupOptions{ReadLimiter: lim})
	if lim.n != r.BytesRead || r.BytesRead != 5<<20 {
		t.Fatalf("limiter saw %d bytes, backup read %d, want 5 MiB", lim.n, r.BytesRead)
	}
	sameFiles(t, disk, restoreT(t, ts, *prevOf(r), RestoreOptions{}))
	_, err = Restore(context.Background(), ts, r.Root, "nbd://"+addr+"/", RestoreOptions{OriginalSource: "nbd://" + addr + "/"})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore onto the original export without force: %v", err)
	}
}

// TestRestoreToQemuNBD restores through a writable qemu-nbd into a qcow2
// (NBD_CMD_WRITE, WRITE_ZEROES over old data, FLUSH) and verifies.
func TestRestoreToQemuNBD(t *testing.T) {
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, disk, 24<<20)
	writeAt(t, disk, 6<<20, randBytes(3<<20))
	r := backupT(t, ts, disk, nil, BackupOptions{})
	f := newQcow(t, "24M")
	f.write(0, 24<<20, 0x5a) // old content everywhere, zero blocks must clear it
	uri, stop := qemuNBD(t, f.path)
	res, err := Restore(context.Background(), ts, r.Root, uri, RestoreOptions{Verify: true})
	stop()
	if err != nil || !res.Verified {
		t.Fatalf("restore through qemu-nbd: %v", err)
	}
	run(t, "qemu-img", "compare", "-f", "raw", "-F", "qcow2", disk, f.path)
}
