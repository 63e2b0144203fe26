package daemon

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rewind-backup/rewind/vault"
)

// hostIDName is the file in the data directory holding this host's stable
// random id, recorded in every vault's owner lease.
const hostIDName = "host-id"

// hostID reads the data directory's host id, creating it (16 random bytes
// in hex) on the first start. A malformed file is an error, never replaced:
// a new id would make this host look like another one to its own vaults.
func hostID(dir string) (string, error) {
	path := filepath.Join(dir, hostIDName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id := randHex(16)
		if err := writeFileAtomic(path, []byte(id+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("write host id %s: %w", path, err)
		}
		return id, nil
	}
	if err != nil {
		return "", fmt.Errorf("read host id %s: %w", path, err)
	}
	id := strings.TrimSpace(string(b))
	if _, herr := hex.DecodeString(id); herr != nil || len(id) != 32 {
		return "", fmt.Errorf("host id %s is malformed (want 32 hex digits): restore it from a backup of the data directory", path)
	}
	return id, nil
}

// renewLeases renews every vault's owner lease until ctx ends.
func (d *Daemon) renewLeases(ctx context.Context) {
	every := d.cfg.LeaseRenew.Duration
	if every <= 0 {
		every = vault.DefaultLeaseRenew
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, every)
			d.host.RenewLeases(rctx)
			cancel()
		}
	}
}
