package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/vault"
)

// The ballast is a file in the data directory that keeps space in hand: when
// the file system falls below the reserve it is removed so Pebble can still
// commit deletes (expiry, GC) and compact; it is made again once there is
// room (the way CockroachDB keeps an emergency ballast).
const (
	ballastName     = "ballast"
	ballastGone     = "ballast.removed" // marker: given up for space, not yet made again
	ballastSize     = 64 << 20
	spaceCheckEvery = 15 * time.Second
)

// spaceGuard remembers what the last check said, to log changes once.
type spaceGuard struct {
	mu  sync.Mutex
	low map[string]bool // path → below reserve at the last check
}

// reserve is the free space a file system of total bytes must keep:
// space_reserve or space_reserve_percent of total, whichever is smaller.
func (d *Daemon) reserve(total uint64) uint64 {
	abs, _ := parseSize(d.cfg.SpaceReserve)
	pct := total / 100 * uint64(d.cfg.SpaceReservePercent)
	return min(uint64(abs), pct)
}

// freeSpace returns the bytes available to the daemon and the size of the
// file system holding path.
func freeSpace(path string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// lowSpace names the first watched path (the data directory, then v's local
// shard directories when v is not nil) whose free space is below its reserve.
func (d *Daemon) lowSpace(v *vault.Vault) error {
	paths := []string{d.cfg.Data}
	if v != nil {
		for _, t := range v.Store().Targets() {
			if p, ok := strings.CutPrefix(t.Name(), "dir:"); ok {
				paths = append(paths, p)
			}
		}
	}
	for i, p := range paths {
		free, total, err := freeSpace(p)
		if err != nil {
			continue // an unreachable target is reported as degraded, not here
		}
		r := d.reserve(total)
		if i == 0 && d.ballastGiven() {
			r += 2 * ballastSize // the space the ballast gave is for deletes, not for backups
		}
		if free < r {
			return fmt.Errorf("%s has %s free, below the reserve of %s: new backups are refused until space is freed (restores, mounts, verify and gc keep working; \"rewind gc\" and shorter retention free space; space_reserve sets the reserve)",
				p, humanBytes(free), humanBytes(r))
		}
	}
	return nil
}

// checkBackupSpace refuses a new backup of v while space is short.
func (d *Daemon) checkBackupSpace(v *vault.Vault) error {
	d.tendBallast() // make the ballast back first when there is room again
	if err := d.lowSpace(v); err != nil {
		return Errf(CodeUnavailable, "backup refused: %v", err)
	}
	return nil
}

// watchSpace checks the data directory now and every spaceCheckEvery until
// ctx ends: below the reserve it removes the ballast (and logs once); with
// room again it makes the ballast back.
func (d *Daemon) watchSpace(ctx context.Context) {
	t := time.NewTicker(spaceCheckEvery)
	defer t.Stop()
	for {
		d.tendBallast()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ballastGiven reports whether the ballast was removed for lack of space and
// not made again since.
func (d *Daemon) ballastGiven() bool {
	_, err := os.Stat(filepath.Join(d.cfg.Data, ballastGone))
	return err == nil
}

func (d *Daemon) tendBallast() {
	path := filepath.Join(d.cfg.Data, ballastName)
	err := d.lowSpace(nil)
	d.space.mu.Lock()
	was := d.space.low[d.cfg.Data]
	if d.space.low == nil {
		d.space.low = map[string]bool{}
	}
	d.space.low[d.cfg.Data] = err != nil
	d.space.mu.Unlock()
	switch {
	case err != nil:
		if rerr := os.Remove(path); rerr == nil {
			_ = os.WriteFile(filepath.Join(d.cfg.Data, ballastGone), nil, 0o600)
			d.log.Warn("data directory below its space reserve: ballast removed so the index can still commit deletes", "err", err)
		} else if !was {
			d.log.Warn("data directory below its space reserve; the daemon is read-only for new backups", "err", err)
		}
	case was:
		d.log.Info("data directory back above its space reserve; backups are accepted again", "data", d.cfg.Data)
		fallthrough
	default:
		d.makeBallast(path)
	}
}

// makeBallast creates the ballast when missing and the space after it stays
// above the reserve.
func (d *Daemon) makeBallast(path string) {
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return
	}
	free, total, err := freeSpace(d.cfg.Data)
	if err != nil || free < d.reserve(total)+2*ballastSize {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return // made meanwhile by the other caller
	}
	if err != nil {
		d.log.Warn("cannot create the space ballast", "path", path, "err", err)
		return
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, ballastSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // ours, just made
		d.log.Warn("cannot allocate the space ballast", "path", path, "err", err)
		return
	}
	os.Remove(filepath.Join(d.cfg.Data, ballastGone))
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
