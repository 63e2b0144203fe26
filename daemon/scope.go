package daemon

import (
	"context"
	"path/filepath"

	"github.com/rewind-backup/rewind/vault"
)

// Vault scope (API.md "Tokens scoped to vaults"): a principal confined to
// some vaults sees only those. Every other vault, and its items, jobs,
// approvals, mounts and tokens, is answered as not found (404), exactly as
// if it did not exist; host-wide changes (creating or attaching a vault,
// the log level) are forbidden (403) to a confined principal.

// visibleVaults lists the vaults the request's principal may see.
func (d *Daemon) visibleVaults(ctx context.Context) []vault.VaultInfo {
	all := d.host.List(ctx)
	p := principalFrom(ctx)
	if p == nil || len(p.Vaults) == 0 {
		return all
	}
	out := all[:0:0]
	for _, info := range all {
		if p.InScope(info.Name) {
			out = append(out, info)
		}
	}
	return out
}

// scopedVault opens vault name when the request's principal may see it,
// else answers as if it did not exist.
func (d *Daemon) scopedVault(ctx context.Context, name string) (*vault.Vault, error) {
	if p := principalFrom(ctx); p != nil && !p.InScope(name) {
		return nil, Errf(CodeNotFound, "vault %q not found: \"rewind vault list\" shows the vaults", name)
	}
	return d.host.Vault(name)
}

// hostWide refuses a change to the whole host by a principal confined to
// some vaults.
func hostWide(ctx context.Context, what string) error {
	if p := principalFrom(ctx); p != nil && len(p.Vaults) > 0 {
		return Errf(CodeForbidden, "%s is confined to vaults %v and may not %s", p.Name, p.Vaults, what)
	}
	return nil
}

// visibleMounts lists the mounts of the vaults the caller may see.
func (d *Daemon) visibleMounts(ctx context.Context) []MountInfo {
	all := d.mounts.list()
	p := principalFrom(ctx)
	if p == nil || len(p.Vaults) == 0 {
		return all
	}
	out := all[:0:0]
	for _, m := range all {
		if p.InScope(m.Vault) {
			out = append(out, m)
		}
	}
	return out
}

// mountVisible reports whether mountpoint is not a mount of a vault the
// caller may not see (a path that is no mount is left to the unmount).
func (d *Daemon) mountVisible(ctx context.Context, mountpoint string) bool {
	p := principalFrom(ctx)
	if p == nil || len(p.Vaults) == 0 {
		return true
	}
	for _, m := range d.mounts.list() {
		if filepath.Clean(m.Mountpoint) == filepath.Clean(mountpoint) {
			return p.InScope(m.Vault)
		}
	}
	return true
}
