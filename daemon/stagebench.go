package daemon

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/reedsolomon"
	"github.com/zeebo/blake3"
)

// StageResult is one pipeline stage's throughput in GB/s of input, on one
// core and on all cores.
type StageResult struct {
	Stage    string  `json:"stage"`
	OneCore  float64 `json:"one_core_gbps"`
	AllCores float64 `json:"all_cores_gbps"`
}

// benchBuf is the unit every stage works on: a 4 MiB disk block.
const benchBuf = 4 << 20

// mixedData is a third zeros, a third text-like (compressible), a third random.
func mixedData(n int) []byte {
	b := make([]byte, n)
	third := n / 3
	words := []string{"backup ", "restore ", "segment ", "the ", "chunk ", "vault ", "point ", "\n", "0x1f3a ", "error: "}
	r := mrand.New(mrand.NewPCG(1, 2))
	var text bytes.Buffer
	for text.Len() < third {
		text.WriteString(words[r.IntN(len(words))])
	}
	copy(b[third:], text.Bytes()[:third])
	_, _ = rand.Read(b[2*third:])
	return b
}

// stage is a function that processes one input buffer; setup gives each
// worker its own state.
type stage struct {
	name  string
	setup func() func([]byte)
}

// MeasureStages times each stage of the pipeline on mixedData for about d
// per stage and core count, for a k+m erasure-coding profile.
func MeasureStages(ctx context.Context, k, m int, d time.Duration) ([]StageResult, error) {
	in := mixedData(benchBuf)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	enc := snappy.Encode(nil, in)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	sealed := gcm.Seal(nil, nonce, in, nil)
	rs, err := reedsolomon.New(k, m)
	if err != nil {
		return nil, fmt.Errorf("erasure profile %d+%d: %w", k, m, err)
	}
	stages := []stage{
		{"keyed BLAKE3", func() func([]byte) {
			return func(b []byte) { h, _ := blake3.NewKeyed(key); h.Write(b); h.Sum(nil) }
		}},
		{"snappy encode", func() func([]byte) {
			dst := make([]byte, snappy.MaxEncodedLen(benchBuf))
			return func(b []byte) { snappy.Encode(dst, b) }
		}},
		{"snappy decode", func() func([]byte) {
			dst := make([]byte, benchBuf)
			return func([]byte) { _, _ = snappy.Decode(dst, enc) }
		}},
		{"AES-256-GCM seal", func() func([]byte) {
			dst := make([]byte, 0, benchBuf+64)
			return func(b []byte) { gcm.Seal(dst[:0], nonce, b, nil) }
		}},
		{"AES-256-GCM open", func() func([]byte) {
			dst := make([]byte, 0, benchBuf)
			return func([]byte) { _, _ = gcm.Open(dst[:0], nonce, sealed, nil) }
		}},
		{fmt.Sprintf("Reed-Solomon %d+%d encode", k, m), func() func([]byte) {
			shards, _ := rs.Split(append([]byte(nil), in...))
			return func([]byte) { _ = rs.Encode(shards) }
		}},
		{fmt.Sprintf("Reed-Solomon %d+%d reconstruct %d", k, m, m), func() func([]byte) {
			shards, _ := rs.Split(append([]byte(nil), in...))
			_ = rs.Encode(shards)
			return func([]byte) {
				for i := 0; i < m; i++ {
					shards[i] = shards[i][:0]
				}
				_ = rs.ReconstructData(shards)
			}
		}},
	}
	var out []StageResult
	for _, s := range stages {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		one := runStage(s, in, 1, d)
		all := runStage(s, in, runtime.GOMAXPROCS(0), d)
		out = append(out, StageResult{Stage: s.name, OneCore: one, AllCores: all})
	}
	return out, nil
}

// runStage runs s on workers goroutines for about d and returns GB/s of input.
func runStage(s stage, in []byte, workers int, d time.Duration) float64 {
	var total atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := s.setup()
			for time.Now().Before(deadline) {
				f(in)
				total.Add(int64(len(in)))
			}
		}()
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds() / 1e9
}

// Verdict names the stages that bound backups and restores.
func Verdict(stages []StageResult, targets *TargetBench) string {
	backup, restore := bound(stages, []string{"keyed BLAKE3", "snappy encode", "AES-256-GCM seal", "Reed-Solomon"}),
		bound(stages, []string{"snappy decode", "AES-256-GCM open"})
	msg := fmt.Sprintf("backups are bound by %s (%.2f GB/s on all cores); restores by %s (%.2f GB/s)",
		backup.Stage, backup.AllCores, restore.Stage, restore.AllCores)
	if targets != nil {
		if targets.WriteGBps < backup.AllCores {
			msg += fmt.Sprintf("; the shard targets (write %.2f GB/s) bound backups before the CPU does", targets.WriteGBps)
		}
		if targets.ReadGBps < restore.AllCores {
			msg += fmt.Sprintf("; the shard targets (read %.2f GB/s) bound restores before the CPU does", targets.ReadGBps)
		}
	}
	return msg
}

func bound(stages []StageResult, prefixes []string) StageResult {
	var worst StageResult
	for _, s := range stages {
		for _, p := range prefixes {
			if len(s.Stage) >= len(p) && s.Stage[:len(p)] == p && (worst.Stage == "" || s.AllCores < worst.AllCores) {
				if p == "Reed-Solomon" && !bytes.Contains([]byte(s.Stage), []byte("encode")) {
					continue
				}
				worst = s
			}
		}
	}
	return worst
}
