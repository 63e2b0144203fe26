package vmdisk

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// peakRSS resets and later reads the process's peak resident set.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestSparse8GiB: an 8 GiB image holding 100 MiB reads exactly the data,
// stays under 256 MiB of memory, and restores sparse and byte-identical.
func TestSparse8GiB(t *testing.T) {
	ts := newTestStore(t)
	disk := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, disk, 8<<30)
	var offs []int64
	for i := range int64(25) {
		off := (i*(8<<30)/25)&^4095 + i*12288 // page-aligned, mostly not block-aligned
		offs = append(offs, off)
		writeAt(t, disk, off, randBytes(4<<20))
	}
	resetPeakRSS()
	t0 := time.Now()
	r := backupT(t, ts, disk, nil, BackupOptions{})
	t.Logf("backup %v", time.Since(t0))
	rss := peakRSS(t)
	if r.BytesRead != 100<<20 {
		t.Fatalf("read %d bytes, want %d", r.BytesRead, 100<<20)
	}
	if rss > 256<<20 {
		t.Errorf("peak RSS %d MiB during an 8 GiB backup", rss>>20)
	}
	t.Logf("peak RSS %d MiB, %d new blocks, %d bytes stored", rss>>20, r.BlocksNew, r.BytesNew)

	t0 = time.Now()
	out := restoreT(t, ts, *prevOf(r), RestoreOptions{})
	t.Logf("restore+verify %v", time.Since(t0))
	var st syscall.Stat_t
	if err := syscall.Stat(out, &st); err != nil {
		t.Fatal(err)
	}
	if alloc := st.Blocks * 512; alloc > 110<<20 || st.Size != 8<<30 {
		t.Fatalf("restored file allocates %d bytes of %d: not sparse", alloc, st.Size)
	}
	img, err := OpenImage(context.Background(), ts, r.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	for _, off := range offs {
		compareRange(t, disk, out, off-4096, 4<<20+8192)
	}
}

// compareRange compares n bytes at off of two files.
func compareRange(t *testing.T, a, b string, off, n int64) {
	t.Helper()
	read := func(p string) []byte {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, n)
		f.ReadAt(buf, off)
		return buf
	}
	if string(read(a)) != string(read(b)) {
		t.Fatalf("%s and %s differ in %d+%d", a, b, off, n)
	}
}
