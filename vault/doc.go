// Package vault is the catalog: vaults, policies, protected items, recovery
// points and jobs, stored under the "v/" keys of the vault's Pebble database;
// soft delete, immutability, expiry and the live-root enumeration for GC.
//
// A Host owns <data>/vaults/<name>/, one directory per vault: vault.json
// (what is needed to open the store while locked), the blockstore directory
// and, by default, one shard directory per shard. OpenHost opens every vault
// locked; catalog reads and writes work locked (records hold metadata, never
// file contents), anything touching chunks needs Vault.Unlock.
//
// Files by topic: host.go, create.go, vault.go, vaultfile.go, layout.go (the
// host and its vaults); settings*.go, bandwidth.go, audit*.go, approvals.go
// (vault settings, immutability, audit trail, multi-user approval);
// policies.go, reexpire.go; item.go, items.go, lifecycle.go (item state
// machine, soft delete); point.go, points.go, deletepoint.go; job.go, jobs*.go,
// hostjobs.go, ids.go; sweep.go, live.go (expiry, purge, GC); usage.go;
// keys.go, kv.go (key layout and Pebble access, see FORMAT.md).
//
// Refusals are *Error values wrapping one of ErrNotFound, ErrExists,
// ErrInvalid, ErrLocked, ErrImmutable, ErrConflict; their text names the
// thing and the fix. Time comes from HostOptions.Now, or an explicit now.
package vault
