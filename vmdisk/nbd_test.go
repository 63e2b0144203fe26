package vmdisk

import (
	"context"
	"path/filepath"
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
