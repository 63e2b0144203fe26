package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// TargetOpener turns a shard target spec into a Target. The default opens
// local directories (blockstore.NewDirTarget); plug S3 in here.
type TargetOpener func(spec string) (blockstore.Target, error)

// HostOptions configure OpenHost. Zero values take defaults.
type HostOptions struct {
	Now        func() time.Time // clock (default time.Now)
	OpenTarget TargetOpener     // default: local directories only
	Logger     *slog.Logger     // default slog.Default()
	// HostID is this data directory's stable random id, recorded in every
	// vault's owner lease; empty: no leases (tests of the catalog alone).
	HostID     string
	Hostname   string        // recorded in leases, for people
	LeaseValid time.Duration // lease lifetime after a renewal (default DefaultLeaseValid)
	EpochGrace time.Duration // GC waits this long after a takeover before deleting older epochs' segments (default blockstore.DefaultEpochGrace)
}

// Host owns the vaults under <data>/vaults/<name>/. Safe for concurrent use.
type Host struct {
	dir    string
	opts   HostOptions
	ids    *idGen
	mu     sync.Mutex
	vaults map[string]*Vault
	broken map[string]error // vaults that failed to open, by name
}

// OpenHost opens every vault under dataDir/vaults (locked), marking jobs that
// were left queued or running as failed. A vault that cannot be opened is
// listed with its error instead of failing the host.
func OpenHost(ctx context.Context, dataDir string, opts HostOptions) (*Host, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenTarget == nil {
		opts.OpenTarget = openDirTarget
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Host{dir: filepath.Join(dataDir, "vaults"), opts: opts, ids: newIDGen(opts.Now),
		vaults: map[string]*Vault{}, broken: map[string]error{}}
	if err := os.MkdirAll(h.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create vaults directory: %w", err)
	}
	if err := h.openAll(ctx); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

func openDirTarget(spec string) (blockstore.Target, error) {
	if strings.Contains(spec, "://") {
		return nil, invalid("shard target %q is not supported by this build: use a local directory", spec)
	}
	return blockstore.NewDirTarget(spec)
}

func (h *Host) now() time.Time { return h.opts.Now().UTC() }

func (h *Host) openAll(ctx context.Context) error {
	entries, err := os.ReadDir(h.dir)
	if err != nil {
		return fmt.Errorf("list vaults: %w", err)
	}
	h.cleanStaging(entries)
	for _, e := range entries {
		if !e.IsDir() || !ValidName(e.Name()) {
			continue
		}
		h.openOne(ctx, e.Name())
	}
	for _, q := range h.Quarantined() {
		h.opts.Logger.Warn("a quarantined vault directory waits for an operator: inspect it, then move it back or remove it",
			"path", q.Path, "reason", q.Reason)
	}
	return nil
}

func (h *Host) openOne(ctx context.Context, name string) {
	dir := filepath.Join(h.dir, name)
	f, err := readVaultFile(dir)
	m, merr := readCreateMarker(dir)
	switch {
	case err == nil && merr == nil: // crashed after the commit point
		if ferr := finishCreate(dir); ferr != nil {
			h.opts.Logger.Warn("cannot remove the create marker of a committed vault", "vault", name, "err", ferr)
		}
	case errors.Is(err, errNoVaultFile) && merr == nil:
		if !h.recoverCreate(name, dir, m) {
			return
		}
		f, err = readVaultFile(dir)
	case errors.Is(err, errNoVaultFile):
		err = fmt.Errorf("%s is missing from %s and no create was in progress (%v); nothing was removed: put vault.json back and restart the daemon",
			vaultFileName, dir, merr)
	}
	if err == nil {
		var v *Vault
		if v, err = openVault(ctx, h, dir, f); err == nil {
			h.vaults[name] = v
			return
		}
	}
	h.opts.Logger.Error("vault cannot be opened", "vault", name, "err", err)
	h.broken[name] = err
}

// Vault returns the open vault called name.
func (h *Host) Vault(name string) (*Vault, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v, ok := h.vaults[name]; ok {
		return v, nil
	}
	if err, ok := h.broken[name]; ok {
		return nil, &Error{Kind: ErrInvalid, Err: err,
			Msg: fmt.Sprintf("vault %q cannot be opened (check its shard targets and %s)", name, filepath.Join(h.dir, name, vaultFileName))}
	}
	return nil, notFound("vault %q does not exist: see \"rewind vault list\"", name)
}

// List describes every vault, sorted by name; ones that failed to open carry
// their Error.
func (h *Host) List(ctx context.Context) []VaultInfo {
	h.mu.Lock()
	var out []VaultInfo
	vs := make([]*Vault, 0, len(h.vaults))
	for _, v := range h.vaults {
		vs = append(vs, v)
	}
	for name, err := range h.broken {
		out = append(out, VaultInfo{Name: name, Error: err.Error()})
	}
	h.mu.Unlock()
	for _, v := range vs {
		out = append(out, v.Info(ctx))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Close closes every vault's store.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for name, v := range h.vaults {
		if err := v.close(); err != nil {
			errs = append(errs, fmt.Errorf("close vault %q: %w", name, err))
		}
		delete(h.vaults, name)
	}
	return errors.Join(errs...)
}

// taken reports whether a vault name is in use, ignoring case (so "Prod" and
// "prod" cannot both exist). Caller holds h.mu.
func (h *Host) taken(name string) bool {
	for n := range h.vaults {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	for n := range h.broken {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
