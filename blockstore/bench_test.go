package blockstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/reedsolomon"
	"github.com/zeebo/blake3"
)

const benchChunk = 4 << 20

var (
	mixedOnce sync.Once
	mixedData [][]byte
)

// benchMixed returns a fresh copy of 3 chunks: near-zero, text-like, random
// (generated once, so generation does not count as ingest CPU time).
func benchMixed() [][]byte {
	mixedOnce.Do(func() { mixedData = mixedChunks(99, 3, benchChunk) })
	out := make([][]byte, 3)
	for i, c := range mixedData {
		out[i] = append([]byte(nil), c...)
	}
	return out
}

func cpuTime() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// perCPU reports MB per CPU-second of this process: a figure that holds up
// when other processes share the cores (wall-clock MB/s does not).
func perCPU(b *testing.B, bytesPerOp int64) func() {
	start := cpuTime()
	return func() {
		if d := cpuTime() - start; d > 0 {
			b.ReportMetric(float64(bytesPerOp)*float64(b.N)/d/1e6, "MB/cpu-s")
		}
	}
}

// stage runs fn over the mixed chunks on one core and on all cores.
func stage(b *testing.B, fn func(i int, buf []byte)) {
	in := benchMixed()
	b.Run("1core", func(b *testing.B) {
		b.SetBytes(benchChunk)
		defer perCPU(b, benchChunk)()
		for i := 0; i < b.N; i++ {
			fn(i, in[i%3])
		}
	})
	b.Run("allcores", func(b *testing.B) {
		b.SetBytes(benchChunk)
		defer perCPU(b, benchChunk)()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(n.Add(1))
				fn(i, in[i%3])
			}
		})
	})
}

func BenchmarkStageBLAKE3Keyed(b *testing.B) {
	key := make([]byte, 32)
	stage(b, func(_ int, buf []byte) {
		h, _ := blake3.NewKeyed(key)
		h.Write(buf)
		h.Sum(nil)
	})
}

func BenchmarkStageSnappyEncode(b *testing.B) {
	stage(b, func(_ int, buf []byte) { snappy.Encode(nil, buf) })
}

func BenchmarkStageSnappyDecode(b *testing.B) {
	var enc [3][]byte
	for i, c := range benchMixed() {
		enc[i] = snappy.Encode(nil, c)
	}
	stage(b, func(i int, _ []byte) { snappy.Decode(nil, enc[i%3]) })
}

func benchGCM() cipher.AEAD {
	blk, _ := aes.NewCipher(make([]byte, 32))
	g, _ := cipher.NewGCM(blk)
	return g
}

func BenchmarkStageAESGCMSeal(b *testing.B) {
	g := benchGCM()
	nonce := make([]byte, 12)
	stage(b, func(_ int, buf []byte) { g.Seal(nil, nonce, buf, nil) })
}

func BenchmarkStageAESGCMOpen(b *testing.B) {
	g := benchGCM()
	nonce := make([]byte, 12)
	var ct [3][]byte
	for i, c := range benchMixed() {
		ct[i] = g.Seal(nil, nonce, c, nil)
	}
	stage(b, func(i int, _ []byte) { g.Open(nil, nonce, ct[i%3], nil) })
}

func BenchmarkStageReedSolomon42(b *testing.B) {
	enc, _ := reedsolomon.New(4, 2)
	stage(b, func(_ int, buf []byte) {
		shards := make([][]byte, 6)
		for i := 0; i < 4; i++ {
			shards[i] = buf[i*benchChunk/4 : (i+1)*benchChunk/4]
		}
		shards[4], shards[5] = make([]byte, benchChunk/4), make([]byte, benchChunk/4)
		enc.Encode(shards)
	})
}

// benchStore makes a default 4+2 store under $REWIND_BENCH_DIR (e.g. a
// tmpfs, to take the disk out of the measurement) or a temp dir.
func benchStore(b *testing.B) *Store {
	root := b.TempDir()
	if d := os.Getenv("REWIND_BENCH_DIR"); d != "" {
		var err error
		if root, err = os.MkdirTemp(d, "bench"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(root) })
	}
	ts := newTargets(b, root, 6)
	s, err := Create(context.Background(), filepath.Join(root, "store"), testPass, ts, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// ingest puts n chunks from GOMAXPROCS goroutines and flushes. Every chunk
// is made unique by a counter in its first bytes, except real zero chunks.
func ingest(b *testing.B, s *Store, n int, zeros bool, seq *atomic.Uint64) []ID {
	ctx := context.Background()
	w := s.NewWriter()
	defer w.Close()
	ids := make([]ID, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < runtime.GOMAXPROCS(0); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bufs := benchMixed()
			clear(bufs[0])
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				kind := i % 3
				if !zeros && kind == 0 {
					kind = 1 + i%2
				}
				if kind != 0 {
					binary.LittleEndian.PutUint64(bufs[kind], seq.Add(1))
				}
				r, err := w.Put(ctx, bufs[kind])
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = r.ID
			}
		}()
	}
	wg.Wait()
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return ids
}

const ingestChunks = 48 // 192 MiB per iteration

func BenchmarkIngestMixed(b *testing.B) {
	for _, zeros := range []bool{true, false} {
		name := "withZeros"
		if !zeros {
			name = "noZeros"
		}
		b.Run(name, func(b *testing.B) {
			s := benchStore(b)
			var seq atomic.Uint64
			seq.Store(rand.Uint64())
			b.SetBytes(ingestChunks * benchChunk)
			b.ResetTimer()
			defer perCPU(b, ingestChunks*benchChunk)()
			for i := 0; i < b.N; i++ {
				ingest(b, s, ingestChunks, zeros, &seq)
			}
		})
	}
}

func BenchmarkReadBack(b *testing.B) {
	s := benchStore(b)
	var seq atomic.Uint64
	ids := ingest(b, s, ingestChunks, false, &seq)
	ctx := context.Background()
	b.SetBytes(ingestChunks * benchChunk)
	b.ResetTimer()
	defer perCPU(b, ingestChunks*benchChunk)()
	for i := 0; i < b.N; i++ {
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < runtime.GOMAXPROCS(0); g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := int(next.Add(1)) - 1; j < len(ids); j = int(next.Add(1)) - 1 {
					if _, err := s.Get(ctx, ids[j]); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}

// BenchmarkIngest1GiB reports the peak RSS after ingesting 1 GiB of mixed data.
func BenchmarkIngest1GiB(b *testing.B) {
	s := benchStore(b)
	var seq atomic.Uint64
	b.SetBytes(256 * benchChunk)
	for i := 0; i < b.N; i++ {
		for j := 0; j < 256/ingestChunks+1; j++ {
			ingest(b, s, min(ingestChunks, 256-j*ingestChunks), true, &seq)
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")
}
