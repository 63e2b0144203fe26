package blockstore

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble/v2"
)

// pebbleLogger drops Pebble's chatty info lines and sends errors to slog.
type pebbleLogger struct{}

func (pebbleLogger) Infof(string, ...interface{}) {}
func (pebbleLogger) Errorf(format string, args ...interface{}) {
	slog.Error("pebble: " + fmt.Sprintf(format, args...))
}
func (pebbleLogger) Fatalf(format string, args ...interface{}) {
	slog.Error("pebble fatal: " + fmt.Sprintf(format, args...))
	os.Exit(70)
}

func pebbleOptions() *pebble.Options {
	return &pebble.Options{Logger: pebbleLogger{}}
}
