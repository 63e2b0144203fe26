package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// rewindTool drives the rewind CLI. The daemon does the work, so every step
// runs on a daemon started fresh for it, whose VmHWM is read before it stops.
type rewindTool struct {
	e    *env
	bin  string
	dir  string // holds data/, the socket, the config and the daemon log
	item string
}

func (r *rewindTool) Name() string { return "rewind" }

func (r *rewindTool) data() string   { return filepath.Join(r.dir, "data") }
func (r *rewindTool) socket() string { return filepath.Join(r.dir, "rewind.sock") }

// daemon is a running "rewind daemon".
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	stop func()
}

func (r *rewindTool) start(ctx context.Context) (*daemon, error) {
	cfg := filepath.Join(r.dir, "rewind.toml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(r.dir, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	d := &daemon{done: make(chan struct{})}
	d.cmd = command(context.WithoutCancel(ctx), cmdSpec{Args: []string{r.bin, "daemon", "--config", cfg, "--data", r.data(), "--socket", r.socket()}})
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { d.cmd.Wait(); logf.Close(); close(d.done) }()
	d.stop = r.e.cl.add(func() { stopDaemon(d, r.dir) })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, _, err := r.cli(ctx, "status"); err == nil {
			return d, nil
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("rewind daemon exited; see %s", filepath.Join(r.dir, "daemon.log"))
		case <-time.After(100 * time.Millisecond):
		}
	}
	d.stop()
	return nil, fmt.Errorf("rewind daemon did not answer; see %s", filepath.Join(r.dir, "daemon.log"))
}

func stopDaemon(d *daemon, dir string) {
	syscall.Kill(d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(90 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	}
	unmountUnder(dir)
}

func (r *rewindTool) cli(ctx context.Context, args ...string) (measure, string, error) {
	return run(ctx, r.e.timeout(), cmdSpec{Env: []string{"REWIND_SOCKET=" + r.socket()}, Args: append([]string{r.bin}, args...)})
}

// step runs one CLI command on a fresh daemon; RSS is the daemon's peak.
func (r *rewindTool) step(ctx context.Context, args ...string) (measure, string, error) {
	d, err := r.start(ctx)
	if err != nil {
		return measure{}, "", err
	}
	defer d.stop()
	m, out, err := r.cli(ctx, args...)
	m.CLI, m.RSS = m.RSS, vmHWM(d.cmd.Process.Pid)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == exitWarnings {
		r.e.warn("rewind " + args[0] + ": " + err.Error())
		err = nil
	}
	return m, out, err
}

// exitWarnings is the CLI's exit code for a job completed with warnings (a
// hash-compare incremental warns that it read every block).
const exitWarnings = 3

func (r *rewindTool) Setup(ctx context.Context, ds *dataset) error {
	r.dir = r.e.repoDir("rewind", ds.Kind)
	r.item = ds.Kind
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	src := []string{"--disk", ds.path()}
	if ds.Kind == "tree" {
		src = []string{"--share", ds.path()}
	}
	_, _, err := r.step(ctx, append([]string{"item", "add", r.item}, src...)...)
	return err
}

func (r *rewindTool) Backup(ctx context.Context, ds *dataset) (measure, error) {
	m, _, err := r.step(ctx, "backup", r.item)
	return m, err
}

func (r *rewindTool) Restore(ctx context.Context, ds *dataset, to string) (string, measure, error) {
	if ds.Kind == "disk" {
		dst := filepath.Join(to, "disk.img")
		m, _, err := r.step(ctx, "restore", "disk", r.item, "--point", "latest", "--to", dst)
		return dst, m, err
	}
	m, _, err := r.step(ctx, "restore", "share", r.item, "--point", "latest", "--to", to)
	return to, m, err
}

func (r *rewindTool) Mount(ctx context.Context, ds *dataset, mnt string) (*mounted, error) {
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return nil, err
	}
	d, err := r.start(ctx)
	if err != nil {
		return nil, err
	}
	m, _, err := r.cli(ctx, "mount", mnt, "--item", r.item)
	if err != nil {
		d.stop()
		return nil, err
	}
	root := filepath.Join(mnt, r.item, "latest")
	if ds.Kind == "disk" {
		root = filepath.Join(root, "disk.img")
	}
	stop := func() (int64, error) {
		rss := vmHWM(d.cmd.Process.Pid)
		_, _, err := r.cli(ctx, "umount", mnt)
		d.stop()
		return rss, err
	}
	return &mounted{Root: root, Ready: m.Wall, stop: stop}, nil
}

func (r *rewindTool) RepoBytes() int64 { return diskUsage(r.data()) }

func (r *rewindTool) Teardown() { os.RemoveAll(r.dir) }

// point is the part of "rewind points --json" the report uses.
type point struct {
	Kind      string  `json:"kind"`
	BytesRead float64 `json:"bytes_read"`
}

// lastPoint returns the newest point of the item.
func (r *rewindTool) lastPoint(ctx context.Context) (point, error) {
	_, out, err := r.step(ctx, "points", r.item, "--json")
	if err != nil {
		return point{}, err
	}
	var ps []point
	if err := json.Unmarshal([]byte(out), &ps); err != nil || len(ps) == 0 {
		return point{}, errors.Join(fmt.Errorf("points %s: %q", r.item, out), err)
	}
	return ps[len(ps)-1], nil
}

// benchmarkText is "rewind benchmark --vault default" on a fresh data dir.
func (r *rewindTool) benchmarkText(ctx context.Context) (string, error) {
	r.dir = r.e.repoDir("rewind", "benchmark")
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return "", err
	}
	defer r.Teardown()
	_, out, err := r.step(ctx, "benchmark", "--vault", "default")
	return out, err
}
