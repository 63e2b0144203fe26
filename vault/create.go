package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rewind-backup/rewind/blockstore"
)

// Default erasure-coding profile of a new vault.
const (
	DefaultDataShards   = 4
	DefaultParityShards = 2
	maxShards           = 255
)

// StorageLayout is a vault's erasure-coding profile and shard targets.
// Targets empty means one local directory per shard under the vault
// directory (shards/<i>); otherwise len(Targets) == DataShards+ParityShards.
type StorageLayout struct {
	DataShards   int      `json:"data_shards"`
	ParityShards int      `json:"parity_shards"`
	Targets      []string `json:"targets,omitempty"`
}

// CreateOptions for Host.Create. A zero StorageLayout takes the defaults.
type CreateOptions struct {
	Layout      StorageLayout
	SegmentSize int // blockstore segment size (0 = blockstore default)
}

func (l StorageLayout) withDefaults() StorageLayout {
	if l.DataShards == 0 && l.ParityShards == 0 {
		l.DataShards, l.ParityShards = DefaultDataShards, DefaultParityShards
	}
	return l
}

func (l StorageLayout) validate() error {
	n := l.DataShards + l.ParityShards
	if l.DataShards < 1 || l.ParityShards < 0 || n > maxShards {
		return invalid("storage layout %d+%d is not allowed: use at least 1 data shard, 0 or more parity shards, at most %d in all",
			l.DataShards, l.ParityShards, maxShards)
	}
	if len(l.Targets) != 0 && len(l.Targets) != n {
		return invalid("%d shard targets given for %d data + %d parity shards: give exactly %d targets, one per shard",
			len(l.Targets), l.DataShards, l.ParityShards, n)
	}
	seen := map[string]bool{}
	for _, t := range l.Targets {
		if !filepath.IsAbs(t) && !isURL(t) {
			return invalid("shard target %q is not an absolute path or a URL: give the full path", t)
		}
		if seen[t] {
			return invalid("shard target %q is empty or given twice: give each shard its own target", t)
		}
		seen[t] = true
	}
	return nil
}

// targetSpecs returns the layout's target specs, defaulting to shard
// directories below shardDir (relative to the vault directory).
func (l StorageLayout) targetSpecs(shardDir string) []string {
	if len(l.Targets) != 0 {
		return append([]string(nil), l.Targets...)
	}
	specs := make([]string, l.DataShards+l.ParityShards)
	for i := range specs {
		specs[i] = filepath.Join(shardDir, fmt.Sprint(i))
	}
	return specs
}

// Create makes a new vault: its store (encrypted with a key wrapped by
// passphrase), its catalog with the default settings and the "default"
// policy, then vault.json as the commit point. The vault is returned
// unlocked. The passphrase is never stored or logged.
func (h *Host) Create(ctx context.Context, name string, passphrase []byte, opts CreateOptions) (*Vault, error) {
	if err := checkName("vault", name); err != nil {
		return nil, err
	}
	if len(passphrase) == 0 {
		return nil, invalid("vault %q needs a passphrase: give --passphrase-file, REWIND_PASSPHRASE or type one", name)
	}
	layout := opts.Layout.withDefaults()
	if err := layout.validate(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.taken(name) {
		return nil, refuse(ErrExists, "vault %q already exists: choose another name", name)
	}
	v, err := h.create(ctx, name, passphrase, layout, opts.SegmentSize)
	if err != nil {
		return nil, err
	}
	h.vaults[name] = v
	return v, nil
}

func (h *Host) create(ctx context.Context, name string, pass []byte, l StorageLayout, segSize int) (*Vault, error) {
	dir := filepath.Join(h.dir, name)
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		return nil, refuse(ErrExists, "directory %s already exists: move it away or choose another name", dir)
	}
	f := vaultFile{Format: vaultFileFormat, V: vaultFileV, Name: name, Created: h.now(), Store: "store",
		Targets: l.targetSpecs("shards"), Layout: blockstore.Layout{DataShards: l.DataShards, ParityShards: l.ParityShards}}
	m := newCreateMarker(f, h.now())
	if err := h.beginCreate(dir, m); err != nil {
		return nil, fmt.Errorf("create vault %q: write %s: %w", name, createMarkerName, err)
	}
	failpoint("vault-create-after-marker")
	v, err := h.build(ctx, dir, f, pass, segSize)
	if err != nil {
		if uerr := undoCreate(dir, m, true); uerr != nil {
			h.opts.Logger.Error("cannot undo the failed create; the next start resolves it", "vault", name, "err", uerr)
			h.broken[name] = err
		}
		return nil, err
	}
	return v, nil
}

// build makes the store, the catalog and vault.json (the commit point) in dir,
// then removes the create marker. Failpoints name each step.
func (h *Host) build(ctx context.Context, dir string, f vaultFile, pass []byte, segSize int) (*Vault, error) {
	st, err := h.createStore(ctx, dir, f, pass, segSize)
	if err != nil {
		return nil, err
	}
	failpoint("vault-create-after-store")
	v := newVault(h, dir, f, st)
	if err := v.own(ctx, blockstore.LeaseResume); err != nil {
		st.Close()
		return nil, fmt.Errorf("create vault %q: take the owner lease: %w", f.Name, err)
	}
	if err := v.initCatalog(); err != nil {
		st.Close()
		return nil, fmt.Errorf("create vault %q: write its catalog: %w", f.Name, err)
	}
	failpoint("vault-create-after-catalog")
	if err := writeVaultFile(dir, f); err != nil {
		st.Close()
		return nil, fmt.Errorf("create vault %q: write %s: %w", f.Name, vaultFileName, err)
	}
	failpoint("vault-create-after-vaultfile")
	if err := finishCreate(dir); err != nil { // committed already: the next start removes the marker
		h.opts.Logger.Warn("cannot remove the create marker", "vault", f.Name, "err", err)
	}
	return v, nil
}

func (h *Host) createStore(ctx context.Context, dir string, f vaultFile, pass []byte, segSize int) (*blockstore.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create vault %q: %w", f.Name, err)
	}
	targets, err := h.openTargets(dir, f.Targets)
	if err != nil {
		return nil, err
	}
	st, err := blockstore.Create(ctx, filepath.Join(dir, f.Store), pass, targets,
		blockstore.Options{Layout: f.Layout, SegmentSize: segSize})
	if err != nil {
		return nil, fmt.Errorf("create store of vault %q: %w", f.Name, err)
	}
	return st, nil
}

// openTargets opens target specs, resolving relative paths against dir.
func (h *Host) openTargets(dir string, specs []string) ([]blockstore.Target, error) {
	out := make([]blockstore.Target, len(specs))
	for i, s := range specs {
		if !filepath.IsAbs(s) && !isURL(s) {
			s = filepath.Join(dir, s)
		}
		t, err := h.opts.OpenTarget(s)
		if err != nil {
			return nil, fmt.Errorf("open shard target %d (%s): %w", i, specs[i], err)
		}
		out[i] = t
	}
	return out, nil
}

func isURL(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i:i+3] == "://" {
			return true
		}
	}
	return false
}
