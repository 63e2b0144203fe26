// Package rewind is a backup and restore appliance for Linux backup hosts.
//
// The layout is the architecture; dependencies run one way
// (cmd → daemon → {vault, fsmount, vmdisk, fileshare, policy} → blockstore):
//
//	cmd/rewind  the CLI (urfave/cli/v2); every command but "daemon" is a client of the API.
//	daemon      the service: config, scheduler, job runner, API server and client types.
//	policy      pure schedule and retention logic; imports nothing of ours.
//	vault       the catalog in the vault's Pebble database: vaults, policies, items, points, jobs.
//	blockstore  encrypted, deduplicating, erasure-coded chunk store; knows nothing of items, disks or files.
//	vmdisk      disk capture and restore (files, devices, NBD, qcow2), changed-block tracking,
//	            partition tables and guest file-system readers.
//	fileshare   directory-tree capture and restore with content-defined chunking.
//	fsmount     the read-only go-fuse file system over recovery points.
//	seed        offline seeds: a first full backup captured with no daemon or vault, verified and imported.
//	pathsafe    resolves restore and mount targets like systemd's chase(); imports nothing of ours.
//	tests       end-to-end tests against the real binary, real FUSE, real qemu tools.
package rewind
