package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
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
	// LeaseRenew and LeaseValid time each vault's owner lease on its shard
	// targets: renewed every LeaseRenew, live LeaseValid after a renewal.
	LeaseRenew     Duration `toml:"owner_lease_renew"`
	LeaseValid     Duration `toml:"owner_lease_valid"`
	MountMaxExpire Duration `toml:"mount_max_expire"`
	MountRoot      string   `toml:"mount_root"`
	RestoreRoots   []string `toml:"restore_roots"`
	SweepAt        string   `toml:"sweep_at"`
	MetricsListen  string   `toml:"metrics_listen"`
	MemoryLimit    string   `toml:"memory_limit"`
	// SpaceReserve and SpaceReservePercent: new backups are refused while the
	// data directory or a local shard directory has less free space than the
	// smaller of the two.
	SpaceReserve        string    `toml:"space_reserve"`
	SpaceReservePercent int       `toml:"space_reserve_percent"`
	TCP                 TCPConfig `toml:"tcp"`
	// SecurityAdmins are unix users who, on the socket, hold the
	// security-admin role (approve or reject critical operations).
	SecurityAdmins []string `toml:"security_admins"`
	// ApprovalTTL is how long an approval request stays approvable.
	ApprovalTTL Duration               `toml:"approval_ttl"`
	Vaults      map[string]VaultConfig `toml:"vaults"`

	// SocketRoles gives socket peers other than root their roles: a user
	// name or "@group" → reader, backup-operator, restore-operator or admin.
	SocketRoles map[string]string `toml:"socket_roles"`
	// SourceRoots are the directories under which backup- and
	// restore-operators may add items (share dirs, disk files); empty: only
	// admins add items.
	SourceRoots []string `toml:"source_roots"`
}

// TCPConfig enables the API over TCP with TLS and bearer tokens, and bounds
// what one client may hold: timeouts, header size, connections.
type TCPConfig struct {
	Listen string `toml:"listen"`
	Cert   string `toml:"cert"`
	Key    string `toml:"key"`

	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ReadTimeout       Duration `toml:"read_timeout"`
	WriteTimeout      Duration `toml:"write_timeout"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	MaxHeaderBytes    int      `toml:"max_header_bytes"`
	MaxConns          int      `toml:"max_conns"`
	MaxConnsPerIP     int      `toml:"max_conns_per_ip"`
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
		MountMaxExpire:      Duration{7 * 24 * time.Hour},
		MountRoot:           "/run/rewind/mounts",
		LeaseRenew:          Duration{30 * time.Second},
		LeaseValid:          Duration{3 * time.Minute},
		SweepAt:             "03:00",
		MemoryLimit:         "160MiB",
		ApprovalTTL:         Duration{24 * time.Hour},
		SpaceReserve:        "1GiB",
		SpaceReservePercent: 2,
		TCP: TCPConfig{ReadHeaderTimeout: Duration{10 * time.Second}, ReadTimeout: Duration{time.Minute},
			WriteTimeout: Duration{10 * time.Minute}, IdleTimeout: Duration{2 * time.Minute},
			MaxHeaderBytes: 64 << 10, MaxConns: 256, MaxConnsPerIP: 32},
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
	if c.ApprovalTTL.Duration < time.Second || c.ApprovalTTL.Duration > 30*24*time.Hour {
		return fmt.Errorf("%s: approval_ttl = %s: want 1s to 720h", where, c.ApprovalTTL.Duration)
	}
	for _, name := range c.SecurityAdmins {
		if name == "" || strings.ContainsAny(name, ": \t") {
			return fmt.Errorf("%s: security_admins entry %q: want a unix user name", where, name)
		}
	}
	if err := c.validateTargets(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if c.LeaseValid.Duration > 24*time.Hour {
		return fmt.Errorf("%s: owner_lease_valid = %v: want at most 24h (a dead owner would block \"vault attach\" that long)", where, c.LeaseValid.Duration)
	}
	if c.LeaseRenew.Duration < time.Second || c.LeaseValid.Duration < 3*c.LeaseRenew.Duration {
		return fmt.Errorf("%s: owner_lease_renew = %v, owner_lease_valid = %v: want renew at least 1s and valid at least 3 times renew", where, c.LeaseRenew.Duration, c.LeaseValid.Duration)
	}
	if (c.TCP.Listen != "") && (c.TCP.Cert == "" || c.TCP.Key == "") {
		return fmt.Errorf("%s: tcp.listen needs tcp.cert and tcp.key (the TCP API is TLS only)", where)
	}
	if err := c.checkValues(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if err := c.TCP.validateLimits(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return c.validateAccess(where)
}

// validateLimits refuses a zero or negative bound: every one must hold.
func (t TCPConfig) validateLimits() error {
	for _, d := range []struct {
		key string
		v   Duration
	}{{"read_header_timeout", t.ReadHeaderTimeout}, {"read_timeout", t.ReadTimeout}, {"write_timeout", t.WriteTimeout}, {"idle_timeout", t.IdleTimeout}} {
		if d.v.Duration <= 0 {
			return fmt.Errorf("tcp.%s = %v: want a positive duration such as \"30s\"", d.key, d.v.Duration)
		}
	}
	for _, n := range []struct {
		key string
		v   int
	}{{"max_header_bytes", t.MaxHeaderBytes}, {"max_conns", t.MaxConns}, {"max_conns_per_ip", t.MaxConnsPerIP}} {
		if n.v <= 0 {
			return fmt.Errorf("tcp.%s = %d: want a positive number", n.key, n.v)
		}
	}
	return nil
}

// validateAccess checks socket_roles names real roles and source_roots are
// absolute directories' paths.
func (c *Config) validateAccess(where string) error {
	for who, role := range c.SocketRoles {
		if strings.TrimPrefix(who, "@") == "" {
			return fmt.Errorf("%s: socket_roles: empty user name: write \"alice\" = ROLE or \"@group\" = ROLE", where)
		}
		if _, ok := roleRank[Role(role)]; !ok {
			return fmt.Errorf("%s: socket_roles %q = %q: want reader, backup-operator, restore-operator or admin", where, who, role)
		}
	}
	for _, root := range c.SourceRoots {
		if !filepath.IsAbs(root) || filepath.Clean(root) == "/" {
			return fmt.Errorf("%s: source_roots entry %q: want an absolute directory other than /", where, root)
		}
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

// validateTargets checks the target settings: absolute paths, a positive
// mount expiry no longer than its bound.
func (c *Config) validateTargets() error {
	if c.MountRoot == "" || !filepath.IsAbs(c.MountRoot) {
		return fmt.Errorf("mount_root = %q: want an absolute directory such as /run/rewind/mounts", c.MountRoot)
	}
	for _, r := range c.RestoreRoots {
		if !filepath.IsAbs(r) {
			return fmt.Errorf("restore_roots: %q is not an absolute directory", r)
		}
	}
	if c.MountMaxExpire.Duration <= 0 {
		return fmt.Errorf("mount_max_expire = %s: want a positive duration such as \"168h\"", c.MountMaxExpire)
	}
	if c.MountExpire.Duration <= 0 || c.MountExpire.Duration > c.MountMaxExpire.Duration {
		return fmt.Errorf("mount_expire = %s: want a positive duration no longer than mount_max_expire (%s)",
			c.MountExpire, c.MountMaxExpire)
	}
	return nil
}
