package daemon

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rewind-backup/rewind/policy"
	"github.com/rewind-backup/rewind/vault"
)

// Bounds of the duration keys.
const (
	minShutdownTimeout = time.Second
	maxShutdownTimeout = time.Hour
	minMountExpire     = time.Minute
	maxMountExpire     = 365 * 24 * time.Hour
	maxSocketPath      = 107 // sun_path holds 108 bytes with the trailing NUL
)

// checkValues checks every key's value against its rule; the error names the
// key, the value and the rule.
func (c *Config) checkValues() error {
	return errors.Join(
		checkAbs("data", c.Data),
		checkSocketPath(c.Socket),
		checkDuration("shutdown_timeout", c.ShutdownTimeout.Duration, minShutdownTimeout, maxShutdownTimeout),
		checkDuration("mount_expire", c.MountExpire.Duration, minMountExpire, maxMountExpire),
		checkClock("sweep_at", c.SweepAt),
		checkListen("metrics_listen", c.MetricsListen),
		checkListen("tcp.listen", c.TCP.Listen),
		checkOptionalAbs("tcp.cert", c.TCP.Cert),
		checkOptionalAbs("tcp.key", c.TCP.Key),
		c.checkVaults(),
		checkReserve(c.SpaceReserve, c.SpaceReservePercent),
	)
}

func checkAbs(key, p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s = %q: want an absolute path (starting with /)", key, p)
	}
	return nil
}

func checkOptionalAbs(key, p string) error {
	if p == "" {
		return nil
	}
	return checkAbs(key, p)
}

func checkSocketPath(p string) error {
	if err := checkAbs("socket", p); err != nil {
		return err
	}
	if len(p) > maxSocketPath {
		return fmt.Errorf("socket = %q: want a path of at most %d bytes (a unix socket address limit)", p, maxSocketPath)
	}
	return nil
}

func checkDuration(key string, d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return fmt.Errorf("%s = %q: want a duration from %s to %s", key, d, lo, hi)
	}
	return nil
}

// checkClock accepts HH:MM from 00:00 to 23:59 (the schedule rule).
func checkClock(key, s string) error {
	sched := policy.Schedule{Kind: policy.Daily, Times: []string{s}}
	if err := sched.Validate(); err != nil {
		return fmt.Errorf("%s = %q: want a time of day HH:MM from 00:00 to 23:59 (%v)", key, s, err)
	}
	return nil
}

// checkListen accepts "" (off) or HOST:PORT with a port from 1 to 65535.
func checkListen(key, addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s = %q: want HOST:PORT with a port from 1 to 65535, e.g. \"127.0.0.1:9469\", or \"\" for off", key, addr)
	}
	return nil
}

func (c *Config) checkVaults() error {
	var errs []error
	for name, vc := range c.Vaults {
		if !vault.ValidName(name) {
			errs = append(errs, fmt.Errorf("[vaults.%s]: %q is not a vault name: 2–50 characters, a letter first, then letters, digits and hyphens", name, name))
		}
		errs = append(errs, checkAbs("vaults."+name+".passphrase_file", vc.PassphraseFile))
	}
	return errors.Join(errs...)
}

// checkReserve: space_reserve is a size ("0" turns the absolute part off),
// space_reserve_percent 0 to 50.
func checkReserve(size string, pct int) error {
	if _, err := parseSize(size); err != nil {
		return fmt.Errorf("space_reserve = %q: want a size such as 1GiB or 512MiB", size)
	}
	if pct < 0 || pct > 50 {
		return fmt.Errorf("space_reserve_percent = %d: want 0 to 50", pct)
	}
	return nil
}
