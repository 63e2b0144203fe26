package main

import (
	"context"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// dropCaches empties the page cache so the next step reads from disk.
func dropCaches(e *env) {
	if !e.cfg.DropCaches {
		return
	}
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
		log.Printf("drop caches: %v (continuing with warm caches)", err)
		e.cfg.DropCaches = false
	}
}

// diskUsage is the space allocated to everything under dir.
func diskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// syncPath flushes the file system holding path (sync -f).
func syncPath(ctx context.Context, path string) error {
	return exec.CommandContext(ctx, "sync", "-f", path).Run()
}

// seqRead reads path from start to end in 1 MiB reads, like dd bs=1M.
func seqRead(ctx context.Context, path string) (int64, time.Duration, error) {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for ctx.Err() == nil {
		k, err := f.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, time.Since(start), nil
		}
		if err != nil {
			return n, time.Since(start), err
		}
	}
	return n, time.Since(start), ctx.Err()
}

// firstByte opens path and reads one byte, timing both.
func firstByte(path string) (time.Duration, error) {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	_, err = f.Read(make([]byte, 1))
	return time.Since(start), err
}

// linkAs points name at target's inode (atomically, by rename).
func linkAs(target, name string) error {
	tmp := name + ".new"
	os.Remove(tmp)
	if err := os.Link(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
