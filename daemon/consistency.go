package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Consistency levels a recovery point records, best first.
const (
	LevelApplication = "application"
	LevelFileSystem  = "file-system"
	LevelCrash       = "crash"
)

// freezePlan is what an item asks for around its capture.
type freezePlan struct {
	PreFreeze string // shell command; success → application-consistent
	PostThaw  string // shell command; runs once PreFreeze ran, whatever happens
	FSPath    string // a share path whose file system may be FIFREEZEd
	DataDir   string // never freeze the file system the daemon writes to
	Timeout   time.Duration
	Env       []string // extra environment of the hooks (REWIND_ITEM, REWIND_CHECKPOINT, …)
	// Log receives a failing hook's output (admins read the log; readers
	// read points and jobs). Default slog.Default().
	Log *slog.Logger
}

// frozen is the outcome of freeze: the level reached, why a higher one was
// not, and the thaw to call exactly once after the capture.
type frozen struct {
	Level    string
	Reason   string
	Warnings []string
	thaw     []func() error
	timer    *time.Timer
	expired  chan struct{}
}

// freeze tries application, then file-system, then crash consistency. A
// pre-freeze hook that fails is a warning (the job completes with
// warnings, exit 3) naming the level the point got instead.
func freeze(ctx context.Context, p freezePlan) *frozen {
	f := &frozen{Level: LevelCrash, expired: make(chan struct{})}
	var reasons []string
	if p.PreFreeze != "" {
		log := p.Log
		if log == nil {
			log = slog.Default()
		}
		err := runHook(ctx, p.PreFreeze, p.Timeout, p.Env, log.With("hook", "pre-freeze"))
		f.thaw = append(f.thaw, func() error {
			return runHook(context.WithoutCancel(ctx), p.PostThaw, p.Timeout, p.Env, log.With("hook", "post-thaw"))
		})
		if err == nil {
			f.Level = LevelApplication
			f.arm(p.Timeout)
			return f
		}
		reasons = append(reasons, "pre-freeze hook failed: "+err.Error())
		defer func() {
			f.Warnings = append(f.Warnings, fmt.Sprintf("pre-freeze hook failed: %v; the point is %s-consistent, not application-consistent", err, f.Level))
		}()
	} else {
		reasons = append(reasons, "no pre-freeze hook")
	}
	if p.FSPath != "" {
		thaw, err := fsFreeze(p.FSPath, p.DataDir)
		if err == nil {
			f.thaw = append(f.thaw, thaw)
			f.Level = LevelFileSystem
			f.Reason = strings.Join(reasons, "; ")
			f.arm(p.Timeout)
			return f
		}
		reasons = append(reasons, "file-system freeze: "+err.Error())
	} else {
		reasons = append(reasons, "no file-system freeze allowed for this item")
	}
	f.Reason = strings.Join(reasons, "; ")
	f.arm(p.Timeout)
	return f
}

// arm thaws early when the freeze outlives its bound; the job records it.
func (f *frozen) arm(d time.Duration) {
	if len(f.thaw) == 0 || d <= 0 {
		return
	}
	f.timer = time.AfterFunc(d, func() {
		close(f.expired)
		f.runThaw()
	})
}

// Thaw runs the thaw steps once and reports problems as warnings. A freeze
// that outlived its bound was thawed during the capture, so the point is only
// crash-consistent: Level and Reason say so afterwards.
func (f *frozen) Thaw() []string {
	if f.timer != nil && !f.timer.Stop() {
		<-f.expired
		f.Reason = fmt.Sprintf("the %s freeze outlived its bound and was thawed during the capture", f.Level)
		f.Level = LevelCrash
		return append(f.Warnings, f.Reason+"; the point is crash-consistent")
	}
	return append(f.Warnings, f.runThaw()...)
}

func (f *frozen) runThaw() []string {
	var warns []string
	for i := len(f.thaw) - 1; i >= 0; i-- {
		if err := f.thaw[i](); err != nil {
			warns = append(warns, "thaw: "+err.Error())
		}
	}
	f.thaw = nil
	return warns
}

// runHook runs cmd with sh -c and env added to the daemon's environment,
// bounded by timeout, killing its process group. Its error quotes neither
// cmd nor its output: it lands in job warnings and point reasons every
// reader sees, and hook commands and what they print often carry
// credentials. The output of a failing hook goes to log (admins only).
func runHook(ctx context.Context, cmd string, timeout time.Duration, env []string, log *slog.Logger) error {
	if cmd == "" {
		return nil
	}
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Env = append(os.Environ(), env...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	out, err := c.CombinedOutput()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("did not finish within %s", timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		log.Warn("hook failed", "err", err, "output", msg)
		return fmt.Errorf("%v (its output is in the daemon's log)", err)
	}
	return nil
}

// fsFreeze freezes the file system holding path with FIFREEZE. It refuses
// when the daemon's own data lives on that file system (the backup would
// deadlock writing to it).
func fsFreeze(path, dataDir string) (func() error, error) {
	var st, dst unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, err
	}
	if dataDir != "" && unix.Stat(dataDir, &dst) == nil && dst.Dev == st.Dev {
		return nil, errors.New("the share is on the same file system as the daemon's data directory")
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.IoctlSetInt(fd, ioctlFIFREEZE, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("FIFREEZE: %w", err)
	}
	return func() error {
		defer unix.Close(fd)
		if err := unix.IoctlSetInt(fd, ioctlFITHAW, 0); err != nil {
			return fmt.Errorf("FITHAW %s: %w (thaw it with \"fsfreeze -u\")", path, err)
		}
		return nil
	}, nil
}

// FIFREEZE and FITHAW are _IOWR('X', 119, int) and _IOWR('X', 120, int) (linux/fs.h).
const (
	ioctlFIFREEZE = 0xC0045877
	ioctlFITHAW   = 0xC0045878
)
