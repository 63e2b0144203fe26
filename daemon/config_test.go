package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example config in the repository loads and equals the defaults it documents.
func TestExampleConfigIsTheDefault(t *testing.T) {
	cfg, err := LoadConfig("../etc/rewind.toml")
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.Data != def.Data || cfg.Socket != def.Socket || cfg.MaxJobsPerVault != def.MaxJobsPerVault ||
		cfg.ShutdownTimeout != def.ShutdownTimeout || cfg.MountExpire != def.MountExpire || cfg.SweepAt != def.SweepAt ||
		cfg.LogLevel != def.LogLevel || cfg.SocketGroup != def.SocketGroup ||
		cfg.ApprovalTTL != def.ApprovalTTL || len(cfg.SecurityAdmins) != len(def.SecurityAdmins) ||
		cfg.MountRoot != def.MountRoot || cfg.MountMaxExpire != def.MountMaxExpire || len(cfg.RestoreRoots) != len(def.RestoreRoots) ||
		cfg.TCP != def.TCP ||
		len(cfg.SocketRoles) != 0 || len(cfg.SourceRoots) != 0 {
		t.Fatalf("example config %+v differs from the defaults %+v", cfg, def)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"max_jobs_per_vault = 0\n":                                        "1 to 64",
		"approval_ttl = \"0s\"\n":                                         "1s to 720h",
		"security_admins = [\"\"]\n":                                      "unix user name",
		"log_level = \"loud\"\n":                                          "debug, info",
		"shutdown_timeout = \"soon\"\n":                                   "30s",
		"no_such_key = 1\n":                                               "unknown key",
		"[tcp]\nlisten = \"0.0.0.0:1\"\n":                                 "tls",
		"mount_root = \"mnt\"\n":                                          "absolute",
		"restore_roots = [\"srv\"]\n":                                     "absolute",
		"mount_max_expire = \"0s\"\n":                                     "positive",
		"mount_expire = \"200h\"\n":                                       "mount_max_expire",
		"socket_roles = { \"alice\" = \"root\" }\n":                       "want reader",
		"socket_roles = { \"@\" = \"reader\" }\n":                         "empty user name",
		"source_roots = [\"srv\"]\n":                                      "absolute",
		"source_roots = [\"/\"]\n":                                        "other than /",
		"[tcp]\nread_header_timeout = \"0s\"\n":                           "read_header_timeout",
		"[tcp]\nmax_conns_per_ip = 0\n":                                   "max_conns_per_ip",
		"sweep_at = \"25:00\"\n":                                          "sweep_at = \"25:00\": want a time of day HH:MM from 00:00 to 23:59",
		"sweep_at = \"3am\"\n":                                            "sweep_at",
		"shutdown_timeout = \"0s\"\n":                                     "shutdown_timeout = \"0s\": want a duration from 1s to 1h0m0s",
		"mount_expire = \"-5m\"\n":                                        "mount_expire = -5m0s: want a positive duration",
		"data = \"relative/dir\"\n":                                       "data = \"relative/dir\": want an absolute path",
		"socket = \"/" + strings.Repeat("s", 120) + "\"\n":                "at most 107 bytes",
		"metrics_listen = \"localhost\"\n":                                "metrics_listen = \"localhost\": want HOST:PORT",
		"metrics_listen = \"127.0.0.1:70000\"\n":                          "port from 1 to 65535",
		"[vaults.x_y]\npassphrase_file = \"/p\"\n":                        "not a vault name",
		"[vaults.prod]\npassphrase_file = \"p\"\n":                        "vaults.prod.passphrase_file = \"p\": want an absolute path",
		"[tcp]\nlisten = \"0.0.0.0:1\"\ncert = \"c.pem\"\nkey = \"/k\"\n": "tcp.cert",
		"space_reserve = \"lots\"\n":                                      "space_reserve = \"lots\": want a size",
		"owner_lease_valid = \"1000000h\"\n":                              "owner_lease_valid = 1000000h0m0s: want at most 24h",
		"space_reserve_percent = 60\n":                                    "space_reserve_percent = 60: want 0 to 50",
	}
	for text, want := range cases {
		p := filepath.Join(dir, "c.toml")
		os.WriteFile(p, []byte(text), 0o600)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Errorf("%q: %v, want an error mentioning %q", text, err, want)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("an explicit config file that is missing must be an error")
	}
	t.Setenv("REWIND_MAX_JOBS_PER_VAULT", "3")
	cfg := DefaultConfig()
	if err := cfg.ApplyEnv(); err != nil || cfg.MaxJobsPerVault != 3 {
		t.Errorf("env override: %v %d", err, cfg.MaxJobsPerVault)
	}
	_ = time.Second
}

// The reserve is the smaller of space_reserve and the percentage.
func TestSpaceReserve(t *testing.T) {
	d := &Daemon{cfg: DefaultConfig()}
	for total, want := range map[uint64]uint64{
		10 << 30:  (10 << 30) / 100 * 2, // 2 % of 10 GiB < 1 GiB
		100 << 30: 1 << 30,              // 1 GiB < 2 % of 100 GiB
	} {
		if got := d.reserve(total); got != want {
			t.Errorf("reserve(%d) = %d, want %d", total, got, want)
		}
	}
	d.cfg.SpaceReserve = "0"
	if got := d.reserve(100 << 30); got != 0 {
		t.Errorf("space_reserve 0: reserve = %d, want 0 (off)", got)
	}
}

// TestSocketGroupMustExist: a socket_group other than the default that names
// no group stops the daemon instead of leaving the socket to root alone in
// silence.
func TestSocketGroupMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	if ln, err := listenUnix(path, "rewind-no-such-group"); err == nil || !strings.Contains(err.Error(), "socket_group") {
		if ln != nil {
			ln.Close()
		}
		t.Fatalf("listen with a missing socket_group: %v, want an error naming socket_group", err)
	}
	ln, err := listenUnix(filepath.Join(t.TempDir(), "d.sock"), "root")
	if err != nil {
		t.Fatalf("listen with an existing group: %v", err)
	}
	ln.Close()
}
