package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// dataset is what a tool backs up: Base/Rel, a file (the disk image, swapped
// between A and B by hard link) or a directory (the tree).
type dataset struct {
	Kind  string // "disk" or "tree"
	Base  string
	Rel   string
	Bytes int64
}

func (d *dataset) path() string { return filepath.Join(d.Base, d.Rel) }

// tool is one backup program driven through its CLI. Every method works on
// the repository made by the last Setup.
type tool interface {
	Name() string
	Setup(ctx context.Context, ds *dataset) error
	Backup(ctx context.Context, ds *dataset) (measure, error)
	// Restore restores the newest snapshot under the new directory to and
	// returns where the dataset landed.
	Restore(ctx context.Context, ds *dataset, to string) (string, measure, error)
	// Mount mounts the newest snapshot on mnt.
	Mount(ctx context.Context, ds *dataset, mnt string) (*mounted, error)
	RepoBytes() int64
	Teardown()
}

// env is what every tool shares.
type env struct {
	cfg  config
	work string
	cl   *cleanups

	warnings []string
}

func (e *env) timeout() time.Duration { return e.cfg.StepTimeout }

// warn records a warning once for the report.
func (e *env) warn(msg string) {
	msg = strings.Join(strings.Fields(msg), " ")
	if i := strings.Index(msg, "warning: "); i >= 0 {
		msg = msg[i:]
	}
	if !slices.Contains(e.warnings, msg) {
		e.warnings = append(e.warnings, msg)
	}
}

// repoDir returns a fresh directory name for a tool's repository.
func (e *env) repoDir(tool, kind string) string {
	d := filepath.Join(e.work, "repos", tool+"-"+kind)
	os.RemoveAll(d)
	os.MkdirAll(filepath.Dir(d), 0o755)
	return d
}

// mounted is a live FUSE mount of one snapshot.
type mounted struct {
	Root  string        // the dataset inside the mount
	Ready time.Duration // from the mount command to Root existing
	stop  func() (int64, error)

	once sync.Once
	rss  int64
	err  error
}

// Stop unmounts (once) and returns the peak RSS of the process that served it.
func (m *mounted) Stop() (int64, error) {
	m.once.Do(func() { m.rss, m.err = m.stop() })
	return m.rss, m.err
}

// watch stops the mount when the step runs out of time, so that a read
// blocked in the FUSE server fails instead of hanging; call the returned
// function when the step is over.
func (m *mounted) watch(ctx context.Context, limit time.Duration) func() {
	ctx, cancel := context.WithTimeout(ctx, limit)
	stop := context.AfterFunc(ctx, func() { m.Stop() })
	return func() { stop(); cancel() }
}

// serveMount starts a foreground FUSE server (restic mount, borg mount -f)
// and waits until ready exists.
func serveMount(ctx context.Context, e *env, s cmdSpec, mnt, ready string) (*mounted, error) {
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(mnt + ".log")
	if err != nil {
		return nil, err
	}
	cmd := command(context.WithoutCancel(ctx), s)
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	stop := e.cl.add(func() { stopServer(cmd, done, mnt) })
	m := &mounted{Root: ready, stop: func() (int64, error) { stop(); return maxRSS(cmd.ProcessState), nil }}
	if err := waitPath(ctx, ready, done, 2*time.Minute); err != nil {
		stop()
		log, _ := os.ReadFile(mnt + ".log")
		return nil, fmt.Errorf("%s mount: %w\n%s", s.Args[0], err, tail(string(log)))
	}
	m.Ready = time.Since(start)
	return m, nil
}

// stopServer unmounts mnt so the server exits, then insists.
func stopServer(cmd *exec.Cmd, done chan struct{}, mnt string) {
	syscall.Unmount(mnt, 0)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		select {
		case <-done:
			return
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, sig)
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	}
	<-done
}

// waitPath polls until path exists, the server exits, or the time is up.
func waitPath(ctx context.Context, path string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.After(limit)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the mount process exited")
		case <-deadline:
			return fmt.Errorf("%s did not appear within %v", path, limit)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
