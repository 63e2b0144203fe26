package daemon

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/vault"
)

// vaultView is a vault as the API shows it.
type vaultView struct {
	vault.VaultInfo
	ItemCount    int    `json:"item_count"`
	DataShards   int    `json:"data_shards"`
	ParityShards int    `json:"parity_shards"`
	Immutability string `json:"immutability"`
	Degraded     bool   `json:"degraded"`
	// Writer is "this host", or "fenced: …" after another host took the
	// vault over (owner lease, FORMAT.md).
	Writer string `json:"writer,omitempty"`
}

func viewVault(info vault.VaultInfo) vaultView {
	v := vaultView{VaultInfo: info, ItemCount: info.Items, DataShards: info.Layout.DataShards,
		ParityShards: info.Layout.ParityShards, Immutability: string(info.Settings.Immutability)}
	switch o := info.Owner; {
	case o != nil && o.Fenced != "":
		v.Writer = "fenced: " + o.Fenced
	case o != nil:
		v.Writer = "this host"
	}
	return v
}

func (d *Daemon) hVaults(r *http.Request) (any, error) {
	infos := d.visibleVaults(r.Context())
	out := make([]vaultView, len(infos))
	for i, info := range infos {
		out[i] = viewVault(info)
		if v, err := d.host.Vault(info.Name); err == nil {
			out[i].Degraded = d.degraded(r.Context(), v)
		}
	}
	return out, nil
}

func (d *Daemon) hVault(r *http.Request) (any, error) {
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, err
	}
	view := viewVault(v.Info(r.Context()))
	view.Degraded = d.degraded(r.Context(), v)
	return view, nil
}

func (d *Daemon) hCreateVault(r *http.Request) (any, error) {
	var req CreateVaultRequest
	if err := hostWide(r.Context(), "create a vault"); err != nil {
		return nil, err
	}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.Passphrase) < 8 {
		return nil, Errf(CodeInvalid, "the passphrase of vault %q is too short: use at least 8 characters (a long random one is best)", req.Name)
	}
	layout := vault.StorageLayout{DataShards: req.DataShards, ParityShards: req.ParityShards, Targets: req.Shards}
	if err := checkPlacement(layout, req.AllowUnsafePlacement); err != nil {
		return nil, err
	}
	v, err := d.host.Create(r.Context(), req.Name, []byte(req.Passphrase), vault.CreateOptions{Layout: layout})
	if err != nil {
		return nil, err
	}
	d.bindThrottle(v)
	d.log.Info("vault created", "vault", req.Name, "by", principalName(r))
	return viewVault(v.Info(r.Context())), nil
}

// checkPlacement refuses layouts where one target holds more than the parity
// count of a stripe's shards: losing that target would lose data.
func checkPlacement(l vault.StorageLayout, allowUnsafe bool) error {
	if len(l.Targets) == 0 || allowUnsafe {
		return nil
	}
	count := map[string]int{}
	for _, t := range l.Targets {
		count[filepath.Clean(t)]++
	}
	parity := l.ParityShards
	if parity == 0 {
		parity = vault.DefaultParityShards
	}
	for t, n := range count {
		if n > parity {
			return Errf(CodeInvalid, "shard target %s would hold %d shards of every segment but only %d may be lost: losing it would lose data. Give distinct targets, or pass --allow-unsafe-placement", t, n, parity)
		}
	}
	return nil
}

func (d *Daemon) hUnlock(r *http.Request) (any, error) {
	v, req, err := vaultRequest[UnlockRequest](d, r)
	if err != nil {
		return nil, err
	}
	wasLocked := v.Locked()
	if err := d.verifyCredential(r, v, req.Passphrase, req.KeyFile); err != nil {
		return nil, err
	}
	if wasLocked {
		d.log.Info("vault unlocked", "vault", v.Name(), "by", principalName(r))
	}
	return viewVault(v.Info(r.Context())), nil
}

// verifyPassphrase unlocks v with pass, or on an unlocked vault checks pass
// against the key in memory: always checked, so "unlocked" means the
// passphrase is right. Wrong passphrases are counted and rate-limited
// (failLimiter) per principal and per vault: a limited admin that makes
// itself a new token gets no fresh guesses.
func (d *Daemon) verifyPassphrase(r *http.Request, v *vault.Vault, pass string) error {
	who := principalName(r)
	keys := []string{who, "vault " + v.Name()}
	for _, k := range keys {
		if wait := d.unlockFails.wait(k, d.now()); wait > 0 {
			return rateLimited(who, wait)
		}
	}
	d.unlockMu.Lock()
	defer d.unlockMu.Unlock()
	if err := v.Unlock([]byte(pass)); err != nil {
		if errors.Is(err, blockstore.ErrWrongPassphrase) {
			for _, k := range keys {
				d.unlockFails.fail(k, d.now())
			}
			d.log.Warn("wrong passphrase", "vault", v.Name(), "by", who)
		}
		return err
	}
	for _, k := range keys {
		d.unlockFails.reset(k)
	}
	return nil
}

func (d *Daemon) hKeyExport(r *http.Request) (any, error) {
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, err
	}
	if v.Locked() {
		return nil, lockedError(v.Name()) // the key file is the master key: only in memory once unlocked
	}
	b, err := v.KeyFile(r.Context()) // never written to a temp file
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"key": b}, nil
}

// hVaultSettings applies the settings the request names. Lowering
// immutability and disabling soft delete are critical: with multi-user
// approval on they wait for a security admin's approval.
func (d *Daemon) hVaultSettings(r *http.Request) (any, error) {
	v, req, err := vaultRequest[VaultSettingsRequest](d, r)
	if err != nil {
		return nil, err
	}
	if err := v.CheckSettings(settingsChange(req)); err != nil {
		return nil, err // impossible: refused at once, never queued
	}
	s, err := v.Settings()
	if err != nil {
		return nil, err
	}
	if err := d.guard(r.Context(), v, criticalSettings(s, req), pendingOp{Settings: &req}); err != nil {
		return nil, err
	}
	return d.applySettings(r.Context(), v, req, principalName(r))
}

func settingsChange(req VaultSettingsRequest) vault.SettingsChange {
	c := vault.SettingsChange{SoftDeleteDays: req.SoftDeleteDays, MultiUserApproval: req.MultiUserApproval}
	if req.Immutability != nil {
		m := vault.Immutability(*req.Immutability)
		c.Immutability = &m
	}
	return c
}

// criticalSettings lists the critical operations req would do to settings s.
func criticalSettings(s vault.Settings, req VaultSettingsRequest) []critical {
	var ops []critical
	if req.MultiUserApproval != nil && !*req.MultiUserApproval && s.MultiUserApproval {
		ops = append(ops, critMUAOff)
	}
	if req.Immutability != nil && vault.Immutability(*req.Immutability) == vault.ImmutabilityOff && s.Immutability == vault.ImmutabilityOn {
		ops = append(ops, critImmutabilityOff)
	}
	if n := req.SoftDeleteDays; n != nil && s.SoftDeleteDays != 0 && (*n == 0 || *n < s.SoftDeleteDays) {
		ops = append(ops, critSoftDeleteShorten)
	}
	return ops
}

func (d *Daemon) applySettings(ctx context.Context, v *vault.Vault, req VaultSettingsRequest, who string) (any, error) {
	if req.SoftDeleteDays != nil {
		if _, err := v.SetSoftDeleteDays(ctx, *req.SoftDeleteDays, who); err != nil {
			return nil, err
		}
	}
	if req.Immutability != nil {
		if _, err := v.SetImmutability(ctx, vault.Immutability(*req.Immutability), who); err != nil {
			return nil, err
		}
		for _, w := range objectLockWarnings(ctx, v.Layout().Targets) {
			d.log.Warn("immutability is on, but a shard target cannot enforce it", "vault", v.Name(), "problem", w)
		}
	}
	if req.MultiUserApproval != nil {
		if _, err := v.SetMultiUserApproval(ctx, *req.MultiUserApproval, who); err != nil {
			return nil, err
		}
	}
	if req.WorkHoursRate != nil || req.OffHoursRate != nil || req.WorkHours != nil {
		s, err := v.Settings()
		if err != nil {
			return nil, err
		}
		b, err := bandwidthFrom(s.Bandwidth, req)
		if err != nil {
			return nil, err
		}
		if _, err := v.SetBandwidth(ctx, b, who); err != nil {
			return nil, err
		}
		d.bindThrottle(v) // shard writes follow the new rate at once

	}
	return viewVault(v.Info(ctx)), nil
}
