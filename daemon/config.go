package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultConfigPath is read when --config is not given; a missing file there
// means "run on the embedded default".
const DefaultConfigPath = "/etc/rewind/rewind.toml"

// Config is the daemon's configuration: the file (etc/rewind.toml documents
// every key with its default), then REWIND_* environment variables, then flags.
type Config struct {
	Data            string   `toml:"data"`
	Socket          string   `toml:"socket"`
	SocketGroup     string   `toml:"socket_group"`
	LogLevel        string   `toml:"log_level"`
	MaxJobsPerVault int      `toml:"max_jobs_per_vault"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	MountExpire     Duration `toml:"mount_expire"`
	SweepAt         string   `toml:"sweep_at"`
	MetricsListen   string   `toml:"metrics_listen"`
	MemoryLimit     string   `toml:"memory_limit"`
	// SpaceReserve and SpaceReservePercent: new backups are refused while the
	// data directory or a local shard directory has less free space than the
	// smaller of the two.
	SpaceReserve        string                 `toml:"space_reserve"`
	SpaceReservePercent int                    `toml:"space_reserve_percent"`
	TCP                 TCPConfig              `toml:"tcp"`
	Vaults              map[string]VaultConfig `toml:"vaults"`
}

// TCPConfig enables the API over TCP with TLS and bearer tokens.
type TCPConfig struct {
	Listen string `toml:"listen"`
	Cert   string `toml:"cert"`
	Key    string `toml:"key"`
}

// VaultConfig holds per-vault settings read at start.
type VaultConfig struct {
	// PassphraseFile unlocks the vault at start (works with systemd LoadCredential=).
	PassphraseFile string `toml:"passphrase_file"`
}

// Duration is a time.Duration written as "30s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w (write e.g. \"30s\" or \"12h\")", b, err)
	}
	d.Duration = v
	return nil
}

// MarshalText renders the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultConfig is the embedded default the daemon runs on with no file.
func DefaultConfig() Config {
	return Config{
		Data:                "/var/lib/rewind",
		Socket:              "/run/rewind/rewind.sock",
		SocketGroup:         "rewind",
		LogLevel:            "info",
		MaxJobsPerVault:     2,
		ShutdownTimeout:     Duration{30 * time.Second},
		MountExpire:         Duration{12 * time.Hour},
		SweepAt:             "03:00",
		MemoryLimit:         "160MiB",
		SpaceReserve:        "1GiB",
		SpaceReservePercent: 2,
	}
}

// LoadConfig reads path over the defaults. A missing file is an error unless
// path is the default path (then the embedded default stands).
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	explicit := path != ""
	if !explicit {
		path = DefaultConfigPath
	}
	md, err := toml.DecodeFile(path, &cfg)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return cfg, nil
	case err != nil:
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return cfg, fmt.Errorf("config %s: unknown key %q (see etc/rewind.toml for the keys)", path, und[0].String())
	}
	return cfg, cfg.validate(path)
}

// ApplyEnv overrides settings from REWIND_DATA, REWIND_SOCKET, REWIND_LOG_LEVEL
// and REWIND_MAX_JOBS_PER_VAULT.
func (c *Config) ApplyEnv() error {
	if v := os.Getenv("REWIND_DATA"); v != "" {
		c.Data = v
	}
	if v := os.Getenv("REWIND_SOCKET"); v != "" {
		c.Socket = v
	}
	if v := os.Getenv("REWIND_LOG_LEVEL"); v != "" {
		c.LogLevel = v
	}
	if v := os.Getenv("REWIND_MAX_JOBS_PER_VAULT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("REWIND_MAX_JOBS_PER_VAULT=%q: want a number from 1 to 64", v)
		}
		c.MaxJobsPerVault = n
	}
	return c.validate("environment")
}

func (c *Config) validate(where string) error {
	if c.MaxJobsPerVault < 1 || c.MaxJobsPerVault > 64 {
		return fmt.Errorf("%s: max_jobs_per_vault = %d: want 1 to 64", where, c.MaxJobsPerVault)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if c.Data == "" || c.Socket == "" {
		return fmt.Errorf("%s: data and socket must not be empty", where)
	}
	if _, err := parseSize(c.MemoryLimit); err != nil {
		return fmt.Errorf("%s: memory_limit: %w", where, err)
	}
	if (c.TCP.Listen != "") && (c.TCP.Cert == "" || c.TCP.Key == "") {
		return fmt.Errorf("%s: tcp.listen needs tcp.cert and tcp.key (the TCP API is TLS only)", where)
	}
	if err := c.checkValues(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// Validate checks the final configuration (after flags); where names the
// last source applied. The error names the key and its rule.
func (c *Config) Validate(where string) error { return c.validate(where) }

// ParseLevel reads debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return l, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// parseSize reads "192MiB", "1GiB", "512KiB", a plain byte count, or "" / "0"
// (no limit).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "0" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n < 0 {
			break
		}
		return n * u.mult, nil
	}
	return 0, fmt.Errorf("size %q: write e.g. 192MiB or 1GiB (0 for no limit)", s)
}
