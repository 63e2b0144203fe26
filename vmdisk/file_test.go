package vmdisk

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFileFullAndHashCompare(t *testing.T) {
	ts := newTestStore(t)
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.raw")
	sparseFile(t, disk, 64<<20+12345)
	writeAt(t, disk, 0, randBytes(4096))
	writeAt(t, disk, 10<<20, randBytes(1<<20))
	writeAt(t, disk, 64<<20, randBytes(12345))

	var last int64
	r1 := backupT(t, ts, disk, nil, BackupOptions{Progress: func(d, total int64) { last = d }})
	if r1.Kind != "full" || r1.Method != MethodFull {
		t.Fatalf("kind %s method %s", r1.Kind, r1.Method)
	}
	if last != 64<<20+12345 {
		t.Errorf("progress ended at %d", last)
	}
	// SEEK_DATA granularity is the fs block; data is 4 KiB-aligned here.
	if want := int64(4096 + 1<<20 + 12345); r1.BytesRead < want || r1.BytesRead > want+8192 {
		t.Errorf("full backup read %d bytes, want about %d", r1.BytesRead, want)
	}
	sameFiles(t, disk, restoreT(t, ts, *prevOf(r1), RestoreOptions{}))

	writeAt(t, disk, 30<<20, randBytes(100))
	r2 := backupT(t, ts, disk, prevOf(r1), BackupOptions{})
	if r2.Method != MethodHashCompare || r2.BlocksNew != 1 {
		t.Errorf("method %s, %d new blocks; want hash-compare, 1", r2.Method, r2.BlocksNew)
	}
	sameFiles(t, disk, restoreT(t, ts, *prevOf(r2), RestoreOptions{}))
}

func TestFileGrowShrink(t *testing.T) {
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, disk, 10<<20)
	writeAt(t, disk, 9<<20, randBytes(1<<20))
	r1 := backupT(t, ts, disk, nil, BackupOptions{})
	// grow: the old partial last block and the new area must be read
	writeAt(t, disk, 20<<20, randBytes(3<<20))
	cbt := filepath.Join(t.TempDir(), "cbt.json")
	os.WriteFile(cbt, []byte(`[]`), 0o600)
	r2 := backupT(t, ts, disk, prevOf(r1), BackupOptions{ChangedBlocksFile: cbt})
	if r2.Method != MethodChangedBlocks {
		t.Fatalf("method %s", r2.Method)
	}
	sameFiles(t, disk, restoreT(t, ts, *prevOf(r2), RestoreOptions{}))
	// shrink
	if err := os.Truncate(disk, 6<<20+512); err != nil {
		t.Fatal(err)
	}
	r3 := backupT(t, ts, disk, prevOf(r2), BackupOptions{})
	if r3.SourceBytes != 6<<20+512 {
		t.Fatalf("size %d", r3.SourceBytes)
	}
	sameFiles(t, disk, restoreT(t, ts, *prevOf(r3), RestoreOptions{}))
	sameFiles(t, restoreT(t, ts, *prevOf(r1), RestoreOptions{}), restoreT(t, ts, *prevOf(r1), RestoreOptions{}))
}

func TestEmptyDisk(t *testing.T) {
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "empty.raw")
	sparseFile(t, disk, 0)
	r := backupT(t, ts, disk, nil, BackupOptions{})
	if r.SourceBytes != 0 || r.BytesRead != 0 {
		t.Fatalf("empty disk: %+v", r)
	}
	out := restoreT(t, ts, *prevOf(r), RestoreOptions{})
	if st, err := os.Stat(out); err != nil || st.Size() != 0 {
		t.Fatalf("restored empty disk: %v %v", st, err)
	}
	r2 := backupT(t, ts, disk, prevOf(r), BackupOptions{})
	if r2.Root != r.Root {
		t.Error("unchanged empty disk gave a different root")
	}
}
