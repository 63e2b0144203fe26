package main

import (
	"fmt"
	"log"
	"sort"
	"sync"
	"time"
)

// Steps recorded per tool.
const (
	stDiskFull       = "disk-full"
	stDiskIncr       = "disk-incr" // rewind: hash-compare; peers: their incremental
	stBitmapFull     = "disk-qcow2-full"
	stBitmapIncr     = "disk-qcow2-bitmap-incr"
	stDiskRestore    = "disk-restore"
	stDiskMount      = "disk-mount-read"
	stTreeFull       = "tree-full"
	stTreeIncr       = "tree-incr"
	stTreeRestore    = "tree-restore"
	stTreeMountReady = "tree-mount-ready"
	stTreeFirstByte  = "tree-first-byte"
)

// results collects every measure, keyed by step then tool.
type results struct {
	mu         sync.Mutex
	Disk       *diskSet
	Tree       *treeSet
	M          map[string]map[string][]measure
	Repo       map[string]map[string][]int64
	BitmapRead []float64
	Failures   []string
	Warnings   []string
	Benchmark  string
}

func newResults(d *diskSet, t *treeSet) *results {
	return &results{Disk: d, Tree: t, M: map[string]map[string][]measure{}, Repo: map[string]map[string][]int64{}}
}

func (r *results) add(step, tool string, m measure) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.M[step] == nil {
		r.M[step] = map[string][]measure{}
	}
	r.M[step][tool] = append(r.M[step][tool], m)
	log.Printf("  %s %s: %v, peak RSS %s", tool, step, m.Wall.Round(time.Millisecond), human(m.RSS))
}

func (r *results) addRepo(step, tool string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Repo[step] == nil {
		r.Repo[step] = map[string][]int64{}
	}
	r.Repo[step][tool] = append(r.Repo[step][tool], n)
}

// fail records a tool's failed run (nil is no failure) and returns err.
func (r *results) fail(tool, what string, err error) error {
	if err != nil {
		msg := fmt.Sprintf("%s, %s: %v", tool, what, err)
		log.Print("FAILED ", msg)
		r.mu.Lock()
		r.Failures = append(r.Failures, msg)
		r.mu.Unlock()
	}
	return err
}

// summary is the median, min and max of a series.
type summary struct {
	Med, Min, Max float64
	N             int
}

func summarize(xs []float64) (s summary) {
	if len(xs) == 0 {
		return s
	}
	v := append([]float64{}, xs...)
	sort.Float64s(v)
	s = summary{Min: v[0], Max: v[len(v)-1], N: len(v)}
	if n := len(v); n%2 == 1 {
		s.Med = v[n/2]
	} else {
		s.Med = (v[n/2-1] + v[n/2]) / 2
	}
	return s
}

func (r *results) wall(step, tool string) summary {
	var xs []float64
	for _, m := range r.M[step][tool] {
		xs = append(xs, m.Wall.Seconds())
	}
	return summarize(xs)
}

// peakRSS is the largest RSS (and CLI RSS) seen over the runs of a step.
func (r *results) peakRSS(step, tool string) (p, cli int64) {
	for _, m := range r.M[step][tool] {
		p, cli = max(p, m.RSS), max(cli, m.CLI)
	}
	return p, cli
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
}
