package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// benchmark prepares everything, runs every tool cfg.Runs times in
// alternating order, and writes the report.
func benchmark(ctx context.Context, cfg config, cl *cleanups) error {
	e, err := prepare(ctx, cfg, cl)
	if err != nil {
		return err
	}
	usr, err := newUsrStream("/usr", int64((cfg.DiskGiB*0.3+cfg.TreeGiB*0.6)*(1<<30)))
	if err != nil {
		return fmt.Errorf("list /usr files: %w", err)
	}
	defer usr.Close()
	log.Printf("generating a %.2f GiB disk image and %d files (%.2f GiB) in %s", cfg.DiskGiB, cfg.TreeFiles, cfg.TreeGiB, e.work)
	start := time.Now()
	disk, err := genDisk(ctx, e.work, int64(cfg.DiskGiB*(1<<30)), cfg.Seed, usr)
	if err != nil {
		return fmt.Errorf("generate disk image: %w", err)
	}
	tree, err := genTree(ctx, e.work, cfg.TreeFiles, int64(cfg.TreeGiB*(1<<30)), cfg.Seed, usr)
	if err != nil {
		return fmt.Errorf("generate tree: %w", err)
	}
	log.Printf("generated in %v", time.Since(start).Round(time.Second))
	res := newResults(disk, tree)
	tools, rw := makeTools(e, e.cfg)
	for i := 0; i < cfg.Runs; i++ {
		if err := oneRun(ctx, e, res, rotate(tools, i), rw, disk, tree); err != nil {
			return err
		}
	}
	if rw != nil {
		if res.Benchmark, err = rw.benchmarkText(ctx); err != nil {
			res.Failures = append(res.Failures, "rewind benchmark: "+err.Error())
		}
	}
	res.Warnings = e.warnings
	return writeReport(ctx, cfg, res)
}

// oneRun runs every tool once on the disk, rewind's bitmap flow, and every
// tool once on the tree. A failing tool is recorded and skipped; only
// cancellation stops the run.
func oneRun(ctx context.Context, e *env, res *results, tools []tool, rw *rewindTool, disk *diskSet, tree *treeSet) error {
	ds := &dataset{Kind: "disk", Base: e.work, Rel: "current.img", Bytes: disk.Size}
	for _, t := range tools {
		if err := diskRun(ctx, e, res, t, disk, ds); ctx.Err() != nil {
			return ctx.Err()
		} else {
			res.fail(t.Name(), "disk", err)
		}
	}
	if rw != nil && ctx.Err() == nil {
		log.Printf("rewind: qcow2 bitmap full + incremental")
		full, incr, read, err := bitmapRun(ctx, e, rw, disk)
		if res.fail("rewind", "qcow2 bitmap", err) == nil {
			res.add(stBitmapFull, "rewind", full)
			res.add(stBitmapIncr, "rewind", incr)
			res.BitmapRead = append(res.BitmapRead, read)
		}
	}
	ts := &dataset{Kind: "tree", Base: e.work, Rel: "tree", Bytes: tree.Bytes}
	for _, t := range tools {
		if err := treeRun(ctx, e, res, t, tree, ts); ctx.Err() != nil {
			return ctx.Err()
		} else {
			res.fail(t.Name(), "tree", err)
		}
	}
	return nil
}

func rotate(ts []tool, n int) []tool {
	n %= len(ts)
	return append(append([]tool{}, ts[n:]...), ts[:n]...)
}

func diskRun(ctx context.Context, e *env, res *results, t tool, d *diskSet, ds *dataset) error {
	name := t.Name()
	log.Printf("%s: disk image", name)
	defer t.Teardown()
	if err := linkAs(d.A, ds.path()); err != nil {
		return err
	}
	if err := t.Setup(ctx, ds); err != nil {
		return err
	}
	if err := timedBackup(ctx, e, res, t, ds, stDiskFull); err != nil {
		return err
	}
	if err := linkAs(d.B, ds.path()); err != nil {
		return err
	}
	if err := timedBackup(ctx, e, res, t, ds, stDiskIncr); err != nil {
		return err
	}
	got, err := timedRestore(ctx, e, res, t, ds, stDiskRestore)
	if err != nil {
		return err
	}
	restored := filepath.Join(e.work, "restore-"+name)
	defer os.RemoveAll(restored)
	if e.cfg.Verify {
		if sum, err := fileSum(got); err != nil || sum != d.SumB {
			return errors.Join(fmt.Errorf("%s restored an image that differs from image B", name), err)
		}
	}
	os.RemoveAll(restored)
	return mountRead(ctx, e, res, t, ds)
}

// timedBackup backs up with cold caches and records the time and the
// repository size after it.
func timedBackup(ctx context.Context, e *env, res *results, t tool, ds *dataset, st string) error {
	dropCaches(e)
	m, err := t.Backup(ctx, ds)
	if err != nil {
		return err
	}
	res.add(st, t.Name(), m)
	res.addRepo(st, t.Name(), t.RepoBytes())
	return nil
}

// timedRestore restores into a new directory and syncs it; the time includes
// the sync.
func timedRestore(ctx context.Context, e *env, res *results, t tool, ds *dataset, st string) (string, error) {
	to := filepath.Join(e.work, "restore-"+t.Name())
	os.RemoveAll(to)
	if err := os.MkdirAll(to, 0o755); err != nil {
		return "", err
	}
	dropCaches(e)
	got, m, err := t.Restore(ctx, ds, to)
	if err != nil {
		return "", err
	}
	start := time.Now()
	if err := syncPath(ctx, to); err != nil {
		return "", fmt.Errorf("sync %s: %w", to, err)
	}
	m.Wall += time.Since(start)
	res.add(st, t.Name(), m)
	return got, nil
}

// mountRead reads the whole image through the tool's mount with cold caches.
func mountRead(ctx context.Context, e *env, res *results, t tool, ds *dataset) error {
	dropCaches(e)
	mnt, err := t.Mount(ctx, ds, filepath.Join(e.work, "mnt-"+t.Name()))
	if err != nil {
		return err
	}
	unwatch := mnt.watch(ctx, e.timeout())
	n, dur, err := seqRead(ctx, mnt.Root)
	unwatch()
	rss, serr := mnt.Stop()
	if err = errors.Join(err, serr); err != nil {
		return fmt.Errorf("read %s through the mount: %w", ds.Rel, err)
	}
	if n != ds.Bytes {
		return fmt.Errorf("read %d bytes of %s through the mount, want %d", n, ds.Rel, ds.Bytes)
	}
	res.add(stDiskMount, t.Name(), measure{Wall: dur, RSS: rss})
	return nil
}

func treeRun(ctx context.Context, e *env, res *results, t tool, tree *treeSet, ds *dataset) error {
	log.Printf("%s: file tree", t.Name())
	defer t.Teardown()
	defer tree.toA()
	if err := tree.toA(); err != nil {
		return err
	}
	if err := t.Setup(ctx, ds); err != nil {
		return err
	}
	if err := timedBackup(ctx, e, res, t, ds, stTreeFull); err != nil {
		return err
	}
	if err := tree.toB(); err != nil {
		return err
	}
	if err := timedBackup(ctx, e, res, t, ds, stTreeIncr); err != nil {
		return err
	}
	got, err := timedRestore(ctx, e, res, t, ds, stTreeRestore)
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Join(e.work, "restore-"+t.Name()))
	if e.cfg.Verify {
		if sum, err := treeDigest(ctx, got); err != nil || sum != tree.SumB {
			return errors.Join(fmt.Errorf("%s restored a tree that differs from tree B", t.Name()), err)
		}
	}
	os.RemoveAll(filepath.Join(e.work, "restore-"+t.Name()))
	return mountFirstByte(ctx, e, res, t, tree, ds)
}

// mountFirstByte mounts the tree point and times the first byte of one file
// with cold caches.
func mountFirstByte(ctx context.Context, e *env, res *results, t tool, tree *treeSet, ds *dataset) error {
	dropCaches(e)
	mnt, err := t.Mount(ctx, ds, filepath.Join(e.work, "mnt-"+t.Name()))
	if err != nil {
		return err
	}
	unwatch := mnt.watch(ctx, e.timeout())
	dropCaches(e)
	lat, err := firstByte(filepath.Join(mnt.Root, tree.Probe))
	unwatch()
	rss, serr := mnt.Stop()
	if err = errors.Join(err, serr); err != nil {
		return fmt.Errorf("first byte of %s through the mount: %w", tree.Probe, err)
	}
	res.add(stTreeMountReady, t.Name(), measure{Wall: mnt.Ready, RSS: rss})
	res.add(stTreeFirstByte, t.Name(), measure{Wall: lat, RSS: rss})
	return nil
}

func makeTools(e *env, cfg config) ([]tool, *rewindTool) {
	var ts []tool
	var rw *rewindTool
	for _, name := range strings.Split(cfg.Tools, ",") {
		switch strings.TrimSpace(name) {
		case "rewind":
			rw = &rewindTool{e: e, bin: cfg.Rewind}
			ts = append(ts, rw)
		case "restic":
			ts = append(ts, &restic{e: e})
		case "borg":
			ts = append(ts, &borg{e: e})
		}
	}
	return ts, rw
}
