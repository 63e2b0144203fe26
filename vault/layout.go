package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rewind-backup/rewind/blockstore"
)

// SetLayout changes the erasure-coding profile and shard targets. It is
// allowed only while no item is protected (no item other than purged ones
// and no recovery point): the vault's store is re-created empty with the
// same passphrase (which must be given, and is checked) and the catalog is
// copied over; then vault.json switches to the new store (the commit point)
// and the old store and its default shard directories are removed. The key
// changes: export it again afterwards.
func (v *Vault) SetLayout(ctx context.Context, passphrase []byte, l StorageLayout, principal string) error {
	l = l.withDefaults()
	if err := l.validate(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.checkLayoutChangeable(principal); err != nil {
		return err
	}
	if err := v.Store().Unlock(passphrase); err != nil {
		if errors.Is(err, blockstore.ErrWrongPassphrase) {
			return &Error{Kind: ErrInvalid, Err: err, Msg: fmt.Sprintf("vault %q: the passphrase is wrong; the layout was not changed", v.name)}
		}
		return fmt.Errorf("change layout of vault %q: %w", v.name, err)
	}
	return v.replaceStore(ctx, passphrase, l, principal)
}

func (v *Vault) checkLayoutChangeable(principal string) error {
	items, err := v.Items(ctx0)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.State.Live() {
			return v.auditRefusal(principal, "change storage layout", refuse(ErrConflict,
				"the storage layout of vault %q is fixed because it protects items (%q is %s): create a new vault with the layout you want and protect the items there",
				v.name, it.Name, it.State))
		}
	}
	active, err := v.Jobs(ctx0, JobFilter{Active: true})
	if err != nil || len(active) == 0 {
		return err
	}
	return refuse(ErrConflict, "vault %q has a job %s (%s): wait for it before changing the layout", v.name, active[0].Status, active[0].ID)
}

// replaceStore creates the new store, copies the catalog and commits.
func (v *Vault) replaceStore(ctx context.Context, pass []byte, l StorageLayout, principal string) error {
	old := v.file // only SetLayout writes it, under v.mu
	gen := v.freeGen(storeGen(old.Store) + 1)
	nf := old
	nf.Store = fmt.Sprintf("store-%d", gen)
	nf.Targets = l.targetSpecs(fmt.Sprintf("shards-%d", gen))
	nf.Layout = blockstore.Layout{DataShards: l.DataShards, ParityShards: l.ParityShards}
	st, err := v.host.createStore(ctx, v.dir, nf, pass, 0)
	if err != nil {
		return err
	}
	err = copyCatalog(v.cat(), kv{db: st.DB()}, nf)
	if err == nil {
		err = writeVaultFile(v.dir, nf)
	}
	if err != nil {
		st.Close()
		v.removeOwned(nf)
		return fmt.Errorf("change layout of vault %q: %w", v.name, err)
	}
	v.smu.Lock()
	oldStore := v.store
	v.store, v.kv, v.file = st, kv{db: st.DB()}, nf
	v.smu.Unlock()
	oldStore.Close()
	v.removeOwned(old)
	if err := v.own(ctx, blockstore.LeaseResume); err != nil { // the new targets get the lease
		return fmt.Errorf("layout of vault %q changed, but: %w", v.name, err)
	}
	return v.auditLayout(principal, old, nf)
}

func (v *Vault) auditLayout(principal string, old, nf vaultFile) error {
	t := v.cat().begin()
	defer t.abort()
	detail := fmt.Sprintf("%d+%d → %d+%d, targets %s", old.Layout.DataShards, old.Layout.ParityShards,
		nf.Layout.DataShards, nf.Layout.ParityShards, strings.Join(nf.Targets, ","))
	if err := v.audit(t, principal, "change storage layout", OutcomeDone, detail); err != nil {
		return err
	}
	return t.commit()
}

// storeGen reads N from "store-N"; "store" is generation 1.
func storeGen(name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "store-"))
	if err != nil {
		return 1
	}
	return n
}

// freeGen returns the first generation from gen whose store-N and shards-N
// do not exist. Leftovers of a crashed layout change are never removed by
// inference; they are logged and skipped.
func (v *Vault) freeGen(gen int) int {
	for ; ; gen++ {
		var left []string
		for _, n := range []string{fmt.Sprintf("store-%d", gen), fmt.Sprintf("shards-%d", gen)} {
			if _, err := os.Lstat(filepath.Join(v.dir, n)); !errors.Is(err, os.ErrNotExist) {
				left = append(left, n)
			}
		}
		if len(left) == 0 {
			return gen
		}
		v.host.opts.Logger.Warn("a crashed layout change left directories behind; they are kept and skipped (remove them by hand once checked)",
			"vault", v.name, "dirs", strings.Join(left, ","))
	}
}

// removeOwned deletes a store directory and its default (relative) shard
// directories; targets given by the user are left alone.
func (v *Vault) removeOwned(f vaultFile) {
	os.RemoveAll(filepath.Join(v.dir, f.Store))
	for _, t := range f.Targets {
		if !filepath.IsAbs(t) && !isURL(t) {
			os.RemoveAll(filepath.Join(v.dir, t))
		}
	}
}

// copyCatalog copies every catalog key to dst, with v/meta describing f.
func copyCatalog(src, dst kv, f vaultFile) error {
	t := dst.begin()
	defer t.abort()
	err := src.scan("v/", func(key string, val []byte) error {
		return t.b.Set([]byte(key), val, nil)
	})
	if err != nil {
		return err
	}
	if err := t.put(keyMeta, f); err != nil {
		return err
	}
	return t.commit()
}
