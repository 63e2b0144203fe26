package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/rewind-backup/rewind/daemon"
	"github.com/urfave/cli/v2"
)

func daemonCommand() *cli.Command {
	return &cli.Command{
		Name:  "daemon",
		Usage: "run the rewind service (systemd unit rewind.service)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "config file (default " + daemon.DefaultConfigPath + " when present)", EnvVars: []string{"REWIND_CONFIG"}},
			&cli.StringFlag{Name: "data", Usage: "data directory"},
			&cli.StringFlag{Name: "log-level", Usage: "debug, info, warn or error"},
		},
		Action: runDaemon,
	}
}

func runDaemon(c *cli.Context) error {
	cfg, err := daemon.LoadConfig(c.String("config"))
	if err != nil {
		return usageError{err}
	}
	if err := cfg.ApplyEnv(); err != nil {
		return usageError{err}
	}
	if v := c.String("data"); v != "" {
		cfg.Data = absPath(v)
	}
	if c.IsSet("socket") || os.Getenv("REWIND_SOCKET") != "" {
		cfg.Socket = absPath(opt(c, "socket"))
	}
	if v := c.String("log-level"); v != "" {
		cfg.LogLevel = v
	}
	if err := cfg.Validate("flags"); err != nil {
		return usageError{err}
	}
	level := new(slog.LevelVar)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return daemon.Run(ctx, cfg, daemon.Options{Logger: logger, Level: level})
}

// absPath makes a path given on the command line absolute (relative to the
// working directory); the config file itself must use absolute paths.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil && p != "" {
		return a
	}
	return p
}
