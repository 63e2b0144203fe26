package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// Vault is one open vault: its store and its catalog. Catalog reads and
// writes work while the store is locked (records hold no file contents);
// anything touching chunks needs Unlock. Safe for concurrent use.
type Vault struct {
	host *Host
	dir  string
	name string

	mu    sync.Mutex // serialises catalog read-modify-write
	ckMu  sync.Mutex // one catalog checkpoint at a time
	lease ownership  // owner lease on the shard targets (owner.go)

	smu   sync.RWMutex // guards the three below; only SetLayout replaces them
	file  vaultFile
	store *blockstore.Store
	kv    kv
}

// cat is the catalog of the current store.
func (v *Vault) cat() kv {
	v.smu.RLock()
	defer v.smu.RUnlock()
	return v.kv
}

// VaultInfo describes a vault for listings.
type VaultInfo struct {
	Name     string        `json:"name"`
	Created  time.Time     `json:"created,omitzero"`
	Layout   StorageLayout `json:"layout"`
	Locked   bool          `json:"locked"`
	Settings Settings      `json:"settings"`
	Items    int           `json:"items"`
	Error    string        `json:"error,omitempty"` // set when the vault cannot be opened
	Owner    *OwnerInfo    `json:"owner,omitempty"` // owner lease; Owner.Fenced when taken over
}

func newVault(h *Host, dir string, f vaultFile, st *blockstore.Store) *Vault {
	return &Vault{host: h, dir: dir, name: f.Name, file: f, store: st, kv: kv{db: st.DB()}}
}

func openVault(ctx context.Context, h *Host, dir string, f vaultFile) (*Vault, error) {
	if f.Name != filepath.Base(dir) {
		return nil, fmt.Errorf("%s names vault %q but lives in %s: rename the directory back", vaultFileName, f.Name, dir)
	}
	targets, err := h.openTargets(dir, f.Targets)
	if err != nil {
		return nil, err
	}
	st, err := blockstore.Open(ctx, filepath.Join(dir, f.Store), targets)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	v := newVault(h, dir, f, st)
	if err := v.checkCatalog(); err != nil {
		st.Close()
		return nil, err
	}
	if err := v.failStaleJobs(); err != nil {
		st.Close()
		return nil, err
	}
	if err := v.ownAtOpen(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return v, nil
}

type formatRecord struct {
	V int `json:"v"`
}

// initCatalog writes the records of a new vault.
func (v *Vault) initCatalog() error {
	now := v.host.now()
	t := v.cat().begin()
	defer t.abort()
	if err := t.put(keyFormat, formatRecord{V: catalogVersion}); err != nil {
		return err
	}
	if err := t.put(keyMeta, v.file); err != nil {
		return err
	}
	if err := t.put(keySettings, defaultSettings(now)); err != nil {
		return err
	}
	if err := t.put(policyKey(DefaultPolicyName), newDefaultPolicy(now)); err != nil {
		return err
	}
	return t.commit()
}

// checkCatalog refuses a database whose catalog this code does not know.
func (v *Vault) checkCatalog() error {
	var f formatRecord
	found, err := v.cat().getJSON(keyFormat, &f)
	if err != nil {
		return err
	}
	if !found || f.V != catalogVersion {
		return fmt.Errorf("vault %q catalog version %d (found %v), this program reads %d: %w",
			v.name, f.V, found, catalogVersion, blockstore.ErrUnknownFormat)
	}
	return nil
}

// Name returns the vault's name.
func (v *Vault) Name() string { return v.name }

// Store returns the vault's chunk store (locked until Unlock).
func (v *Vault) Store() *blockstore.Store {
	v.smu.RLock()
	defer v.smu.RUnlock()
	return v.store
}

// Layout returns the storage layout (target specs as given at creation).
func (v *Vault) Layout() StorageLayout {
	v.smu.RLock()
	defer v.smu.RUnlock()
	return StorageLayout{DataShards: v.file.Layout.DataShards, ParityShards: v.file.Layout.ParityShards,
		Targets: append([]string(nil), v.file.Targets...)}
}

// Locked reports whether the vault's key is not in memory.
func (v *Vault) Locked() bool { return v.Store().Locked() }

// Unlock unwraps the vault key. A wrong passphrase wraps
// blockstore.ErrWrongPassphrase and ErrInvalid.
func (v *Vault) Unlock(passphrase []byte) error {
	err := v.Store().Unlock(passphrase)
	if errors.Is(err, blockstore.ErrWrongPassphrase) {
		return &Error{Kind: ErrInvalid, Err: err,
			Msg: fmt.Sprintf("vault %q: the passphrase does not unlock it; check the passphrase file or REWIND_PASSPHRASE", v.name)}
	}
	if err != nil {
		return fmt.Errorf("unlock vault %q: %w", v.name, err)
	}
	return nil
}

// CheckUnlocked returns ErrLocked, with the message that says how to
// unlock, when the key is not in memory.
func (v *Vault) CheckUnlocked() error {
	if v.Locked() {
		return refuse(ErrLocked, "vault %q is locked: run \"rewind vault unlock %s\"", v.name, v.name)
	}
	return nil
}

// Info describes the vault.
func (v *Vault) Info(ctx context.Context) VaultInfo {
	info := VaultInfo{Name: v.name, Created: v.created(), Layout: v.Layout(), Locked: v.Locked(), Owner: v.Owner()}
	s, err := v.Settings()
	if err != nil {
		info.Error = err.Error()
	}
	info.Settings = s
	items, err := v.Items(ctx)
	if err != nil {
		info.Error = err.Error()
	}
	for _, it := range items {
		if it.State.Live() {
			info.Items++
		}
	}
	return info
}

// ExportKey writes the vault's key file to path (mode 0600, refused if the
// file exists): it opens the vault without the passphrase (UnlockKeyFile,
// AttachOptions.KeyFile), so keep it as safe as the passphrase, apart from
// this host. The vault must be unlocked.
func (v *Vault) ExportKey(ctx context.Context, path string) error {
	b, err := v.Store().ExportKeyFile(ctx)
	if err != nil {
		return fmt.Errorf("export key of vault %q: %w", v.name, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return refuse(ErrExists, "key file %s already exists: choose another path or remove it", path)
	}
	if err != nil {
		return fmt.Errorf("export key of vault %q: %w", v.name, err)
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("export key of vault %q to %s: %w", v.name, path, err)
	}
	return nil
}

// ChangePassphrase re-wraps the vault key (the data is not rewritten). A wrong
// old passphrase wraps blockstore.ErrWrongPassphrase and ErrInvalid. Export
// the key again afterwards.
func (v *Vault) ChangePassphrase(ctx context.Context, old, new []byte) error {
	if len(new) == 0 {
		return invalid("vault %q needs a non-empty new passphrase", v.name)
	}
	err := v.Store().ChangePassphrase(ctx, old, new)
	if errors.Is(err, blockstore.ErrWrongPassphrase) {
		return &Error{Kind: ErrInvalid, Err: err, Msg: fmt.Sprintf("vault %q: the current passphrase is wrong; nothing was changed", v.name)}
	}
	if err != nil {
		return fmt.Errorf("change passphrase of vault %q: %w", v.name, err)
	}
	return nil
}

func (v *Vault) close() error { return v.Store().Close() }

func (v *Vault) now() time.Time { return v.host.now() }

func (v *Vault) created() time.Time {
	v.smu.RLock()
	defer v.smu.RUnlock()
	return v.file.Created
}
