package fileshare

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

// TestSoakMillionFiles backs up a tree of one million (empty and tiny) files,
// 200,000 of them in one directory, and reports peak memory. REWIND_SOAK=1.
func TestSoakMillionFiles(t *testing.T) {
	if os.Getenv("REWIND_SOAK") == "" {
		t.Skip("set REWIND_SOAK=1 (creates a million files)")
	}
	src := filepath.Join(t.TempDir(), "src")
	start := time.Now()
	mk := func(dir string, n int) {
		must(t, os.MkdirAll(dir, 0o755))
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		must(t, err)
		defer unix.Close(fd)
		for i := 0; i < n; i++ {
			f, err := unix.Openat(fd, "file-"+itoa(i), unix.O_CREAT|unix.O_WRONLY, 0o644)
			must(t, err)
			if i%10 == 0 {
				unix.Write(f, []byte("tiny content"))
			}
			unix.Close(f)
		}
	}
	mk(filepath.Join(src, "huge"), 200000)
	for d := 0; d < 800; d++ {
		mk(filepath.Join(src, "d"+itoa(d/40), "e"+itoa(d)), 1000)
	}
	t.Logf("created 1,000,000 files in %v", time.Since(start))
	s := newStore(t)
	resetPeakRSS()
	start = time.Now()
	res := backupTo(t, s, src, blockstore.ID{}, BackupOptions{})
	full := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("full backup: %d entries in %v (%.0f files/s), peak RSS %.0f MiB, Go heap peak-ish %d MiB, warnings %d",
		res.Entries, full, float64(res.FilesScanned)/full.Seconds(), peakRSSMiB(), ms.HeapSys>>20, len(res.Warnings))
	resetPeakRSS()
	start = time.Now()
	inc := backupTo(t, s, src, res.Root, BackupOptions{})
	t.Logf("incremental: %v, %d files read, root unchanged %v, peak RSS %.0f MiB",
		time.Since(start), inc.FilesRead, inc.Root == res.Root, peakRSSMiB())
}
