package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"

	"github.com/rewind-backup/rewind/blockstore"
)

// Attach rebuilds vault name on this host from its shard targets alone: the
// wrapped key and the newest catalog checkpoint are read from the targets,
// the catalog is restored into a new store directory, and the chunk index is
// rebuilt from the segments. specs must name the vault's targets in their
// original order (their addresses may differ from the old host's). The vault
// is returned unlocked.
func (h *Host) Attach(ctx context.Context, name string, specs []string, passphrase []byte) (*Vault, error) {
	return h.AttachWith(ctx, name, specs, passphrase, AttachOptions{})
}

// AttachOptions tune AttachWith.
type AttachOptions struct {
	// Takeover attaches even while another host holds a live owner lease:
	// the epoch is bumped and that host is fenced on its next write.
	Takeover bool
	// KeyFile, when set, opens the vault's key instead of the passphrase
	// (the document "vault key export" wrote).
	KeyFile []byte
}

// AttachWith is Attach with options. Without Takeover it is refused while
// another host holds a live owner lease on the targets (the error names it).
func (h *Host) AttachWith(ctx context.Context, name string, specs []string, passphrase []byte, opts AttachOptions) (*Vault, error) {
	if err := checkName("vault", name); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.taken(name) {
		return nil, refuse(ErrExists, "vault %q already exists on this host: attach under another name or remove it first", name)
	}
	dir := filepath.Join(h.dir, name)
	if _, err := os.Stat(dir); err == nil {
		return nil, refuse(ErrExists, "directory %s already exists: move it away first", dir)
	}
	v, err := h.attach(ctx, dir, name, specs, credential{pass: passphrase, keyFile: opts.KeyFile}, opts.Takeover)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	h.vaults[name] = v
	return v, nil
}

func (h *Host) attach(ctx context.Context, dir, name string, specs []string, pass credential, takeover bool) (*Vault, error) {
	for _, s := range specs {
		if !filepath.IsAbs(s) && !isURL(s) {
			return nil, invalid("shard target %q: give absolute directories or URLs when attaching", s)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	targets, err := h.openTargets(dir, specs)
	if err != nil {
		return nil, err
	}
	if err := h.checkHeld(ctx, name, targets, takeover); err != nil {
		return nil, err
	}
	st, err := blockstore.Attach(ctx, filepath.Join(dir, "store"), targets)
	if err != nil {
		return nil, fmt.Errorf("attach vault %q: %w", name, err)
	}
	mode := blockstore.LeaseAttach
	if takeover {
		mode = blockstore.LeaseTakeover
	}
	v, err := h.restoreCatalog(ctx, st, dir, name, specs, pass, mode)
	if err != nil {
		st.Close()
		return nil, err
	}
	return v, nil
}

// restoreCatalog unlocks st, imports the newest checkpoint, rebuilds the
// index and writes vault.json (the commit point).
func (h *Host) restoreCatalog(ctx context.Context, st *blockstore.Store, dir, name string, specs []string, pass credential, mode int) (*Vault, error) {
	if err := pass.unlock(st, name); err != nil {
		return nil, err
	}
	recs, _, err := readCheckpoint(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("attach vault %q: %w", name, err)
	}
	var f vaultFile
	if err := json.Unmarshal(recs[keyMeta], &f); err != nil || f.Format != vaultFileFormat {
		return nil, fmt.Errorf("attach vault %q: the checkpoint has no usable vault record", name)
	}
	if len(specs) != len(f.Targets) {
		return nil, invalid("vault %q has %d shard targets; %d were given: name all of them, in their original order", name, len(f.Targets), len(specs))
	}
	f.Name, f.Targets, f.Store = name, specs, "store"
	recs[keyMeta], _ = json.Marshal(f)
	b := st.DB().NewBatch()
	for k, val := range recs {
		if err := b.Set([]byte(k), val, nil); err != nil {
			return nil, err
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, fmt.Errorf("attach vault %q: write catalog: %w", name, err)
	}
	skipped, err := st.RebuildIndexReport(ctx)
	if err != nil {
		return nil, fmt.Errorf("attach vault %q: rebuild the chunk index: %w", name, err)
	}
	for _, seg := range skipped {
		h.opts.Logger.Warn("attach: segment left out of the index: the previous owner stopped while sealing it (fewer shards than needed); a checkpoint written before that seal cannot reference it: run \"rewind verify --read-data\" to confirm",
			"vault", name, "segment", fmt.Sprintf("%016x", seg), "epoch", blockstore.EpochOf(seg))
	}
	v := newVault(h, dir, f, st)
	if err := v.checkCatalog(); err != nil {
		return nil, err
	}
	if err := v.failStaleJobs(); err != nil {
		return nil, err
	}
	if err := v.own(ctx, mode); err != nil { // last before the commit point: a refused attach fences nobody
		return nil, err
	}
	return v, writeVaultFile(dir, f)
}
