package fileshare

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

// benchTree writes about 1 GiB in 20,000 files: 19,800 of 1-32 KiB (text,
// compressible), 190 of 1-4 MiB and 10 of 25 MiB (random). It returns the
// small files' paths (the ones an incremental changes).
func benchTree(b *testing.B, root string) []string {
	r := rand.New(rand.NewPCG(1, 1))
	words := strings.Fields("backup restore vault chunk shard segment point policy item job the of and to")
	var small []string
	for i := 0; i < 19800; i++ {
		var sb strings.Builder
		for n := 1024 + r.IntN(31<<10); sb.Len() < n; {
			sb.WriteString(words[r.IntN(len(words))])
			sb.WriteByte(' ')
		}
		p := filepath.Join(root, "d"+itoa(i%200), "s"+itoa(i%7), "small"+itoa(i))
		writeFile(b, p, []byte(sb.String()), 0o644)
		small = append(small, p)
	}
	for i := 0; i < 200; i++ {
		n := 1<<20 + r.IntN(3<<20)
		if i < 10 {
			n = 25 << 20
		}
		buf := make([]byte, n)
		for j := 0; j+8 <= n; j += 8 {
			v := r.Uint64()
			for k := 0; k < 8; k++ {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		writeFile(b, filepath.Join(root, "big", "f"+itoa(i)), buf, 0o644)
	}
	return small
}

// resetPeakRSS returns free memory to the OS and makes VmHWM start again
// from the current RSS.
func resetPeakRSS() {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func peakRSSMiB() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := parseInt(f[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func parseInt(s string) (int64, error) {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// BenchmarkShare: full backup of the generated tree, an incremental after
// 1% of the files changed, and a restore. Run with -benchtime 1x.
func BenchmarkShare(b *testing.B) {
	ctx := context.Background()
	src := filepath.Join(b.TempDir(), "src")
	small := benchTree(b, src)
	for i := 0; i < b.N; i++ {
		s := newStore(b)
		resetPeakRSS()
		start := time.Now()
		full := backupTo(b, s, src, blockstore.ID{}, BackupOptions{})
		fullDur := time.Since(start)
		fullRSS := peakRSSMiB()
		for j := 0; j < len(small); j += 100 { // 1% of the files (198 small ones)
			f, err := os.OpenFile(small[j], os.O_WRONLY|os.O_APPEND, 0)
			must(b, err)
			_, err = f.WriteString(" changed")
			must(b, err)
			f.Close()
		}
		start = time.Now()
		inc := backupTo(b, s, src, full.Root, BackupOptions{})
		incDur := time.Since(start)
		dst := filepath.Join(b.TempDir(), "dst")
		resetPeakRSS()
		start = time.Now()
		if _, err := Restore(ctx, s, inc.Root, dst, RestoreOptions{}); err != nil {
			b.Fatal(err)
		}
		restDur := time.Since(start)
		restRSS := peakRSSMiB()
		mb := float64(full.SourceBytes) / 1e6
		b.ReportMetric(fullDur.Seconds(), "full-s")
		b.ReportMetric(mb/fullDur.Seconds(), "full-MB/s")
		b.ReportMetric(float64(full.FilesScanned)/fullDur.Seconds(), "full-files/s")
		b.ReportMetric(incDur.Seconds(), "incr-s")
		b.ReportMetric(100*incDur.Seconds()/fullDur.Seconds(), "incr-%-of-full")
		b.ReportMetric(float64(inc.FilesRead), "incr-files-read")
		b.ReportMetric(mb/restDur.Seconds(), "restore-MB/s")
		b.ReportMetric(fullRSS, "backup-peakRSS-MiB")
		b.ReportMetric(restRSS, "restore-peakRSS-MiB")
		b.ReportMetric(float64(full.BytesNew)/1e6, "stored-MB")
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		b.Logf("source %.0f MB in %d files; full %v, incremental %v (%d files read), restore %v",
			mb, full.FilesScanned, fullDur, incDur, inc.FilesRead, restDur)
	}
}

// BenchmarkCDC measures the chunker alone (cut-point search over random data).
func BenchmarkCDC(b *testing.B) {
	data := randData(newRand(), 64<<20)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		for off := 0; off < len(data); off += cut(data[off:]) {
		}
	}
}
