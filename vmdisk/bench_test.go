package vmdisk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const benchSize = 1 << 30

var (
	benchOnce sync.Once
	benchDir  string
)

// benchImage writes a 1 GiB raw image once: a third zeros (a hole), a third
// compressible text-like data, a third random.
func benchImage(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir, _ = os.MkdirTemp("", "rewind-vmdisk-bench-")
		path := filepath.Join(benchDir, "mixed.raw")
		f, err := os.Create(path)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		f.Truncate(benchSize)
		rng := rand.New(rand.NewChaCha8([32]byte{1}))
		words := []string{"the ", "disk ", "backup ", "block ", "rewind ", "qemu ", "zero ", "data\n"}
		buf := make([]byte, BlockSize)
		for i := int64(0); i < benchSize/BlockSize; i++ {
			switch i % 3 {
			case 0:
				continue
			case 1:
				buf = buf[:0]
				for len(buf) < BlockSize {
					buf = append(buf, words[rng.IntN(len(words))]...)
				}
				buf = buf[:BlockSize]
			case 2:
				for k := range buf {
					buf[k] = byte(rng.Uint32())
				}
			}
			f.WriteAt(buf, i*BlockSize)
		}
	})
	return filepath.Join(benchDir, "mixed.raw")
}

// lastBackupWall is the wall time of the last Backup call alone (no flush).
var lastBackupWall time.Duration

func benchBackup(b *testing.B, ts *testStore, src string, prev *Prev, opts BackupOptions) *BackupResult {
	ctx := context.Background()
	w := ts.NewWriter()
	defer w.Close()
	t0 := time.Now()
	res, err := Backup(ctx, w, ts, src, prev, opts)
	if err != nil {
		b.Fatal(err)
	}
	lastBackupWall = time.Since(t0)
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := res.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkFullBackup: a full backup of the mixed image into a fresh store.
func BenchmarkFullBackup(b *testing.B) {
	img := benchImage(b)
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ts := newTestStore(b)
		b.StartTimer()
		res := benchBackup(b, ts, img, nil, BackupOptions{})
		b.ReportMetric(float64(res.BytesRead)/(1<<20), "MiB-read")
	}
}

// BenchmarkStoreIngest: the same non-zero blocks put straight into the store.
func BenchmarkStoreIngest(b *testing.B) {
	img := benchImage(b)
	f, _ := os.Open(img)
	defer f.Close()
	b.SetBytes(benchSize)
	buf := make([]byte, BlockSize)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ts := newTestStore(b)
		b.StartTimer()
		w := ts.NewWriter()
		for i := int64(0); i < benchSize/BlockSize; i++ {
			if i%3 == 0 {
				continue
			}
			f.ReadAt(buf, i*BlockSize)
			if _, err := w.Put(ctx, buf); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}

// BenchmarkIncrementalBitmap: qcow2 with a bitmap, 1% of the disk (10 MiB)
// rewritten between points: clustered (10 writes of 1 MiB) or scattered
// (160 writes of 64 KiB, one every 6.4 MiB, so most blocks are dirty).
func BenchmarkIncrementalBitmap(b *testing.B) {
	img := benchImage(b)
	for _, pat := range []struct {
		name  string
		count int
		n     int64
	}{{"clustered", 10, 1 << 20}, {"scattered", 160, 64 << 10}} {
		b.Run(pat.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				benchIncremental(b, img, pat.count, pat.n)
			}
		})
	}
}

func benchIncremental(b *testing.B, img string, count int, n int64) {
	ts := newTestStore(b)
	q := filepath.Join(b.TempDir(), "disk.qcow2")
	runB(b, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", img, q)
	src, opts := "qcow2:"+q, BackupOptions{Bitmap: "B"}
	t0 := time.Now()
	r1 := benchBackup(b, ts, src, nil, opts)
	full, fullBackup := time.Since(t0), lastBackupWall
	var cmds []string
	for k := range int64(count) {
		off := k * (benchSize / int64(count)) &^ (64<<10 - 1)
		cmds = append(cmds, "-c", fmt.Sprintf("write -P 9 %d %d", off, n))
	}
	runB(b, "qemu-io", append(append([]string{"-f", "qcow2"}, cmds...), q)...)
	b.StartTimer()
	t0 = time.Now()
	r2 := benchBackup(b, ts, src, prevOf(r1), opts)
	inc := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(r2.BytesRead)/(1<<20), "MiB-read")
	b.ReportMetric(100*inc.Seconds()/full.Seconds(), "%-of-full-wall")
	b.ReportMetric(full.Seconds(), "full-s")
	b.ReportMetric(100*lastBackupWall.Seconds()/fullBackup.Seconds(), "%-of-full-before-flush")
}

// BenchmarkRestore: restore the mixed image's point to a new sparse file.
func BenchmarkRestore(b *testing.B) {
	img := benchImage(b)
	ts := newTestStore(b)
	res := benchBackup(b, ts, img, nil, BackupOptions{})
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
		out := filepath.Join(b.TempDir(), "out.raw")
		if _, err := Restore(context.Background(), ts, res.Root, out, RestoreOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(out)
		b.StartTimer()
	}
}

func runB(b *testing.B, name string, args ...string) {
	b.Helper()
	if out, err := execCommand(name, args...); err != nil {
		b.Fatalf("%s: %v\n%s", name, err, out)
	}
}
