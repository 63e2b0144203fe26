// Package vault is the catalog: vaults, policies, protected items, recovery
// points and jobs, stored under the "v/" keys of the vault's Pebble database;
// soft delete, immutability, expiry and the live-root enumeration for GC.
package vault
