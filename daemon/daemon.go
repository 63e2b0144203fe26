package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
	"github.com/rewind-backup/rewind/vault"
)

// Version is the daemon's version, set at build time with -ldflags.
var Version = "dev"

// Daemon is the running service: the vaults, the job runner, the scheduler,
// the mounts and the API.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	level   *slog.LevelVar
	now     func() time.Time
	started time.Time

	host   *vault.Host
	mux    *http.ServeMux
	tokens *tokenStore
	jobs   *runner
	mounts *mountManager
	sched  *scheduler
	ckpt   *checkpointer
	// dataLock is the data directory's flock, held while the daemon runs.
	dataLock *os.File

	// patterns lists every registered route, in registration order.
	patterns []string

	// unlockMu serialises unlocks, so two clients cannot race a vault's key.
	unlockMu sync.Mutex
	// unlockFails slows down passphrase guessing, per principal.
	unlockFails failLimiter
	space       spaceGuard
}

// Options tune a daemon for tests; the zero value is production.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	Level  *slog.LevelVar
}

// Run starts the daemon and serves until ctx is cancelled (SIGTERM), then
// stops cleanly: no new jobs, running ones cancelled within the shutdown
// timeout, mounts unmounted, vaults closed.
func Run(ctx context.Context, cfg Config, opts Options) error {
	d, err := start(ctx, cfg, opts)
	if err != nil {
		return err
	}
	defer d.dataLock.Close()
	return d.serve(ctx)
}

func start(ctx context.Context, cfg Config, opts Options) (*Daemon, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Level == nil {
		opts.Level = new(slog.LevelVar)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: opts.Level}))
	}
	d := &Daemon{cfg: cfg, log: opts.Logger, level: opts.Level, now: opts.Now, started: opts.Now(), mux: http.NewServeMux()}
	if lvl, err := ParseLevel(cfg.LogLevel); err == nil {
		d.level.Set(lvl)
	}
	applyMemoryLimit(cfg.MemoryLimit)
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.Data, err)
	}
	lock, err := lockDataDir(cfg.Data)
	if err != nil {
		return nil, err
	}
	d.dataLock = lock
	d.tendBallast() // on a full disk: free the ballast before Pebble opens
	if err := d.open(ctx); err != nil {
		lock.Close()
		return nil, err
	}
	d.unlockConfigured()
	d.bindThrottles(ctx)
	d.routes()
	return d, nil
}

// open opens the vaults and the tokens, and creates the default vault on a
// first start.
func (d *Daemon) open(ctx context.Context) error {
	id, err := hostID(d.cfg.Data)
	if err != nil {
		return err
	}
	hostname, _ := os.Hostname()
	host, err := vault.OpenHost(ctx, d.cfg.Data, vault.HostOptions{Now: d.now, Logger: d.log, OpenTarget: openThrottled,
		HostID: id, Hostname: hostname, LeaseValid: d.cfg.LeaseValid.Duration})
	if err != nil {
		return fmt.Errorf("open vaults in %s: %w", d.cfg.Data, err)
	}
	d.host = host
	if d.tokens, err = openTokens(d.cfg.Data); err != nil {
		host.Close()
		return err
	}
	d.jobs = newRunner(d)
	d.mounts = newMountManager(d)
	d.ensureMountRoot()
	d.sched = newScheduler(d)
	d.ckpt = newCheckpointer(d)
	if err := d.firstStart(ctx); err != nil {
		host.Close()
		return err
	}
	return nil
}

func (d *Daemon) serve(ctx context.Context) error {
	ln, err := listenUnix(d.cfg.Socket, d.cfg.SocketGroup)
	if err != nil {
		d.host.Close()
		return err
	}
	srv := d.serveUnix(ln)
	servers := []*http.Server{srv}
	if d.cfg.TCP.Listen != "" {
		tcp, err := d.serveTCP()
		if err != nil {
			srv.Close()
			d.host.Close()
			return err
		}
		servers = append(servers, tcp)
	}
	if d.cfg.MetricsListen != "" {
		m, err := d.serveMetrics()
		if err != nil {
			for _, s := range servers {
				s.Close()
			}
			d.host.Close()
			return err
		}
		servers = append(servers, m)
	}
	d.log.Info("rewind daemon ready", "version", Version, "socket", d.cfg.Socket, "data", d.cfg.Data)
	_, _ = sddaemon.SdNotify(false, sddaemon.SdNotifyReady)
	stopWatchdog := d.watchdog()
	go d.sched.run(ctx)
	go d.mounts.expireLoop(ctx)
	go d.renewLeases(ctx)
	go d.watchSpace(ctx)
	<-ctx.Done()
	stopWatchdog()
	return d.shutdown(servers)
}

// shutdown stops taking jobs, cancels running ones within the configured
// bound, unmounts, stops the API and closes the vaults.
func (d *Daemon) shutdown(servers []*http.Server) error {
	_, _ = sddaemon.SdNotify(false, sddaemon.SdNotifyStopping)
	d.log.Info("stopping: no new jobs; cancelling running ones", "timeout", d.cfg.ShutdownTimeout.Duration)
	d.jobs.stop(d.cfg.ShutdownTimeout.Duration)
	d.mounts.unmountAll()
	d.ckpt.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(ctx)
	}
	err := d.host.Close()
	_ = os.Remove(d.cfg.Socket)
	d.log.Info("rewind daemon stopped")
	return err
}

// watchdog pings systemd at half the watchdog interval when one is set.
func (d *Daemon) watchdog() func() {
	every, err := sddaemon.SdWatchdogEnabled(false)
	if err != nil || every == 0 {
		return func() {}
	}
	t := time.NewTicker(every / 2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-t.C:
				_, _ = sddaemon.SdNotify(false, sddaemon.SdNotifyWatchdog)
			case <-done:
				t.Stop()
				return
			}
		}
	}()
	return func() { close(done) }
}

// defaultPassphraseFile is where the first start leaves the generated
// passphrase of the "default" vault.
func (d *Daemon) defaultPassphraseFile() string {
	return filepath.Join(d.cfg.Data, "default-vault.passphrase")
}

// firstStart creates the "default" vault when the host has no vault at all,
// with a generated passphrase written 0600 next to the data, and says so loudly.
func (d *Daemon) firstStart(ctx context.Context) error {
	if len(d.host.List(ctx)) > 0 {
		return nil
	}
	pass := randHex(24)
	path := d.defaultPassphraseFile()
	if err := writeFileAtomic(path, []byte(pass+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the default vault's passphrase: %w", err)
	}
	if _, err := d.host.Create(ctx, "default", []byte(pass), vault.CreateOptions{}); err != nil {
		return fmt.Errorf("create the default vault: %w", err)
	}
	d.log.Warn("FIRST START: created vault \"default\"; its passphrase is in "+path+
		". COPY IT SOMEWHERE SAFE NOW: without it the backups cannot be read. "+
		"Also run \"rewind vault key export default --to FILE\".", "passphrase_file", path)
	return nil
}

// unlockConfigured unlocks vaults whose passphrase file the config names
// (and "default" from its generated file); failures are logged, not fatal.
func (d *Daemon) unlockConfigured() {
	files := map[string]string{}
	if _, err := os.Stat(d.defaultPassphraseFile()); err == nil {
		files["default"] = d.defaultPassphraseFile()
	}
	for name, vc := range d.cfg.Vaults {
		if vc.PassphraseFile != "" {
			files[name] = vc.PassphraseFile
		}
	}
	for name, file := range files {
		if err := d.unlockFromFile(name, file); err != nil {
			d.log.Error("vault stays locked", "vault", name, "err", err)
		}
	}
}

func (d *Daemon) unlockFromFile(name, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("passphrase file: %w", err)
	}
	v, err := d.host.Vault(name)
	if err != nil {
		return err
	}
	pass := []byte(trimNewline(string(b)))
	if err := v.Unlock(pass); err != nil && !errors.Is(err, vault.ErrExists) {
		return err
	}
	return nil
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// applyMemoryLimit sets the Go runtime's soft memory limit (GC works harder
// near it; nothing fails) unless GOMEMLIMIT already sets one.
func applyMemoryLimit(s string) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if n, err := parseSize(s); err == nil && n > 0 {
		debug.SetMemoryLimit(n)
	}
}
