package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// row is one line of the comparison table: rewind's step against the peers'.
type row struct {
	title      string
	rewindStep string
	peerStep   string
	bytes      int64   // source bytes, for throughput; 0 for latencies
	target     float64 // required speed-up over restic; 0: none
}

func (r *results) rows() []row {
	d, t := r.Disk.Size, r.Tree.Bytes
	return []row{
		{"disk: full backup", stDiskFull, stDiskFull, d, 3},
		{"disk: incremental, qcow2 dirty bitmap (peers reread image B)", stBitmapIncr, stDiskIncr, d, 20},
		{"disk: incremental, hash compare of raw image B", stDiskIncr, stDiskIncr, d, 1.5},
		{"disk: full restore to a new file, synced", stDiskRestore, stDiskRestore, d, 2.5},
		{"disk: sequential read through the FUSE mount (bs=1M)", stDiskMount, stDiskMount, d, 3.5},
		{"tree: full backup", stTreeFull, stTreeFull, t, 1.5},
		{"tree: incremental, 1% of files changed", stTreeIncr, stTreeIncr, t, 1.5},
		{"tree: full restore to a new directory, synced", stTreeRestore, stTreeRestore, t, 0},
		{"tree: mount ready", stTreeMountReady, stTreeMountReady, 0, 0},
		{"tree: first byte of one file through the mount", stTreeFirstByte, stTreeFirstByte, 0, 0},
		{"disk: full backup of the qcow2 twin (rewind only)", stBitmapFull, "", d, 0},
	}
}

var peers = []string{"restic", "borg"}

func writeReport(ctx context.Context, cfg config, r *results) error {
	var b strings.Builder
	header(ctx, &b, cfg, r)
	method(&b)
	r.speedTable(&b)
	r.rssTable(&b)
	r.repoTable(&b)
	r.notes(&b)
	fmt.Print(b.String())
	if cfg.Out == "" {
		return nil
	}
	return os.WriteFile(cfg.Out, []byte(b.String()), 0o644)
}

func header(ctx context.Context, b *strings.Builder, cfg config, r *results) {
	fmt.Fprintf(b, "# rewind against restic and borg\n\n")
	fmt.Fprintf(b, "Made by `make bench-compare` (`go run ./tests/benchcompare`, flags: `%s`).\n\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(b, "- date: %s\n- commit: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), gitHead(ctx))
	fmt.Fprintf(b, "- machine: %d CPUs, %s, %s RAM, kernel %s\n", runtime.NumCPU(), cpuModel(), memTotal(), outOf(ctx, "uname", "-r"))
	fmt.Fprintf(b, "- tools: %s; %s; qemu-img %s\n", outOf(ctx, "restic", "version"), outOf(ctx, "borg", "--version"), qemuVersion(ctx))
	fmt.Fprintf(b, "- disk image: %s (40%% zero, 30%% /usr files, 30%% random, in 4 MiB regions), regions rewritten for B: %d (%s)\n",
		human(r.Disk.Size), len(r.Disk.Changed), human(int64(len(r.Disk.Changed))*region))
	fmt.Fprintf(b, "- file tree: %d files, %s (half in %d large files), %d files changed for B\n",
		r.Tree.Files, human(r.Tree.Bytes), max(1, r.Tree.Files/3000), len(r.Tree.Changed))
	fmt.Fprintf(b, "- runs: %d per tool, tools alternating; page cache dropped before each timed step: %v; seed %d\n\n", cfg.Runs, cfg.DropCaches, cfg.Seed)
	b.WriteString("Cells: median wall time (min–max over runs) · throughput of source bytes. ×restic/×borg: the peer's median time over rewind's (above 1: rewind is faster). " +
		"restic runs with its defaults, borg with `--compression lz4` and `" + cfg.BorgEnc + "` encryption; every step of rewind runs on a freshly started daemon.\n\n")
}

func method(b *strings.Builder) {
	b.WriteString(`## Method

Inputs are generated from the seed: image A, image B (A with 1% of its 4 MiB regions rewritten with new random
bytes, same size), and the file tree A/B (1% of files replaced by new versions). Per run and tool, on a fresh
repository on the same disk as the sources:

- disk: full backup of A; incremental of B (restic and borg reread it; rewind compares block hashes); restore
  of the newest point to a new file, then ` + "`sync -f`" + ` (timed) and a SHA-256 check against B; the whole image read
  with 1 MiB reads through the tool's FUSE mount (` + "`restic mount`, `borg mount -f`, `rewind mount`" + `).
- rewind also backs up a qcow2 twin of A (` + "`qemu-img convert`" + `, item ` + "`--disk qcow2:… --bitmap bench`" + `), writes B's
  regions into it with ` + "`qemu-io write -s`" + `, and backs it up again: the dirty-bitmap incremental; the twin is then
  checked equal to B with ` + "`qemu-img compare`" + `.
- tree: full backup; incremental after the changed files are swapped in (new inode and mtime); restore to a new
  directory, synced and checked file by file; mount, then the first byte of one unchanged file with cold caches.

`)
}

func (r *results) speedTable(b *strings.Builder) {
	b.WriteString("## Speed\n\n| step | rewind | restic | borg | ×restic | ×borg | target (×restic) |\n|---|---|---|---|---|---|---|\n")
	for _, w := range r.rows() {
		rw := r.wall(w.rewindStep, "rewind")
		fmt.Fprintf(b, "| %s | %s", w.title, cell(rw, w.bytes))
		for _, p := range peers {
			fmt.Fprintf(b, " | %s", cell(r.wall(w.peerStep, p), w.bytes))
		}
		for _, p := range peers {
			fmt.Fprintf(b, " | %s", ratioText(r.wall(w.peerStep, p), rw))
		}
		fmt.Fprintf(b, " | %s |\n", verdict(w.target, ratio(r.wall(w.peerStep, "restic"), rw)))
	}
	b.WriteString("\n")
}

func cell(s summary, bytes int64) string {
	if s.N == 0 {
		return "—"
	}
	if bytes == 0 {
		return fmt.Sprintf("%.0f ms (%.0f–%.0f)", s.Med*1e3, s.Min*1e3, s.Max*1e3)
	}
	return fmt.Sprintf("%.2f s (%.2f–%.2f) · %.0f MB/s", s.Med, s.Min, s.Max, float64(bytes)/1e6/s.Med)
}

// ratio is how many times faster rewind is than the peer (0: unknown).
func ratio(peer, rw summary) float64 {
	if peer.N == 0 || rw.N == 0 || rw.Med == 0 {
		return 0
	}
	return peer.Med / rw.Med
}

func ratioText(peer, rw summary) string {
	if x := ratio(peer, rw); x > 0 {
		return fmt.Sprintf("%.2f×", x)
	}
	return "—"
}

func verdict(target, got float64) string {
	switch {
	case target == 0:
		return ""
	case got == 0:
		return fmt.Sprintf("≥ %g×: not measured", target)
	case got >= target:
		return fmt.Sprintf("≥ %g×: **met**", target)
	default:
		return fmt.Sprintf("≥ %g×: **missed** by %.0f%% (%.2f×)", target, 100*(target-got)/target, got)
	}
}

func (r *results) rssTable(b *strings.Builder) {
	b.WriteString("## Peak memory\n\nLargest peak RSS over the runs: rusage of the restic/borg process (for mounts, the process serving it); " +
		"for rewind, VmHWM of the daemon started fresh for the step, which does the work (the CLI client's own peak in brackets). Target: rewind ≤ restic on every step.\n\n")
	b.WriteString("| step | rewind | restic | borg | target |\n|---|---|---|---|---|\n")
	for _, w := range r.rows() {
		if w.rewindStep == stTreeFirstByte || w.peerStep == "" {
			continue // the same mounts as "mount ready"; rewind-only row
		}
		rw, cli := r.peakRSS(w.rewindStep, "rewind")
		rs, _ := r.peakRSS(w.peerStep, "restic")
		bg, _ := r.peakRSS(w.peerStep, "borg")
		rwText := rssText(rw)
		if cli > 0 {
			rwText += " (CLI " + human(cli) + ")"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", w.title, rwText, rssText(rs), rssText(bg), rssVerdict(rw, rs))
	}
	b.WriteString("\n")
}

func rssText(n int64) string {
	if n == 0 {
		return "—"
	}
	return human(n)
}

func rssVerdict(rw, rs int64) string {
	switch {
	case rw == 0 || rs == 0:
		return "not measured"
	case rw <= rs:
		return "≤ restic: **met**"
	default:
		return fmt.Sprintf("≤ restic: **missed** by %s (+%.0f%%)", human(rw-rs), 100*float64(rw-rs)/float64(rs))
	}
}

func (r *results) repoTable(b *strings.Builder) {
	b.WriteString("## Repository size\n\nAllocated bytes of the repository (rewind: its whole data directory, Pebble index and the " +
		"default vault's 4+2 erasure-coded shards included), median over runs.\n\n| after | rewind | restic | borg |\n|---|---|---|---|\n")
	for _, st := range []struct{ key, title string }{{stDiskFull, "disk full"}, {stDiskIncr, "disk incremental"}, {stTreeFull, "tree full"}, {stTreeIncr, "tree incremental"}} {
		fmt.Fprintf(b, "| %s", st.title)
		for _, t := range append([]string{"rewind"}, peers...) {
			var xs []float64
			for _, n := range r.Repo[st.key][t] {
				xs = append(xs, float64(n))
			}
			fmt.Fprintf(b, " | %s", rssText(int64(summarize(xs).Med)))
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\n")
}

func (r *results) notes(b *strings.Builder) {
	if len(r.BitmapRead) > 0 {
		fmt.Fprintf(b, "The bitmap incrementals read %s per run (B differs from A in %s).\n\n",
			human(int64(summarize(r.BitmapRead).Med)), human(int64(len(r.Disk.Changed))*region))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(b, "rewind warned (expected for hash compare): %s\n\n", w)
	}
	if len(r.Failures) > 0 {
		b.WriteString("## Failures\n\n")
		for _, f := range r.Failures {
			fmt.Fprintf(b, "- %s\n", strings.ReplaceAll(strings.TrimSpace(f), "\n", " ⏎ "))
		}
		b.WriteString("\n")
	}
	if r.Benchmark != "" {
		b.WriteString("## Stage limits (`rewind benchmark --vault default`)\n\nA missed throughput target is bounded by the stage the verdict names.\n\n```\n")
		b.WriteString(strings.TrimRight(r.Benchmark, "\n") + "\n```\n")
	}
}

func outOf(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return name + " (unknown)"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func gitHead(ctx context.Context) string {
	h := outOf(ctx, "git", "rev-parse", "--short", "HEAD")
	if out, _ := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); len(out) > 0 {
		h += " (work tree has uncommitted changes)"
	}
	return h
}

func qemuVersion(ctx context.Context) string {
	f := strings.Fields(outOf(ctx, "qemu-img", "--version"))
	if len(f) >= 3 {
		return f[2]
	}
	return "(unknown)"
}

func cpuModel() string { return procField("/proc/cpuinfo", "model name") }

func memTotal() string {
	var kib int64
	fmt.Sscan(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), &kib)
	return human(kib * 1024)
}

func procField(path, key string) string {
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "(unknown)"
}
