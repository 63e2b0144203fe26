package daemon

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rewind-backup/rewind/blockstore"
)

// TargetBench is a vault's shard targets' measured throughput: all targets
// written and read at once, as a sealed segment's shards are.
type TargetBench struct {
	Targets   int     `json:"targets"`
	WriteGBps float64 `json:"write_gbps"`
	ReadGBps  float64 `json:"read_gbps"`
}

// BenchmarkReply is GET /v1/vaults/{vault}/benchmark.
type BenchmarkReply struct {
	Vault   string        `json:"vault"`
	Targets *TargetBench  `json:"targets"`
	Stages  []StageResult `json:"stages"`
}

const (
	benchObject  = 8 << 20
	benchObjects = 8
)

// benchTargets writes benchObjects objects of 8 MiB to every target in
// parallel, reads them back, and deletes them.
func benchTargets(ctx context.Context, targets []blockstore.Target) (*TargetBench, error) {
	data := make([]byte, benchObject)
	_, _ = rand.Read(data)
	names := func(i int) string { return fmt.Sprintf("bench/%d-%d", time.Now().UnixNano()/1e6, i) }
	prefix := make([]string, benchObjects)
	for i := range prefix {
		prefix[i] = names(i)
	}
	total := float64(benchObject * benchObjects * len(targets))
	start := time.Now()
	if err := eachTarget(ctx, targets, func(t blockstore.Target) error {
		for _, n := range prefix {
			if err := t.Put(ctx, n, data); err != nil {
				return fmt.Errorf("write to %s: %w", t.Name(), err)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	write := total / time.Since(start).Seconds() / 1e9
	start = time.Now()
	err := eachTarget(ctx, targets, func(t blockstore.Target) error {
		buf := make([]byte, benchObject)
		for _, n := range prefix {
			if err := t.ReadAt(ctx, n, buf, 0); err != nil {
				return fmt.Errorf("read from %s: %w", t.Name(), err)
			}
		}
		return nil
	})
	read := total / time.Since(start).Seconds() / 1e9
	_ = eachTarget(context.WithoutCancel(ctx), targets, func(t blockstore.Target) error {
		for _, n := range prefix {
			_ = t.Delete(ctx, n)
		}
		return nil
	})
	return &TargetBench{Targets: len(targets), WriteGBps: write, ReadGBps: read}, err
}

func eachTarget(ctx context.Context, targets []blockstore.Target, fn func(blockstore.Target) error) error {
	g, _ := errgroup.WithContext(ctx)
	for _, t := range targets {
		g.Go(func() error { return fn(t) })
	}
	return g.Wait()
}

func (d *Daemon) hBenchmark(r *http.Request) (any, error) {
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, err
	}
	tb, err := benchTargets(r.Context(), v.Store().Targets())
	if err != nil {
		return nil, err
	}
	l := v.Layout()
	stages, err := MeasureStages(r.Context(), l.DataShards, l.ParityShards, 300*time.Millisecond)
	return BenchmarkReply{Vault: v.Name(), Targets: tb, Stages: stages}, err
}
