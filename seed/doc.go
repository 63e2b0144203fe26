// Package seed writes and reads offline seeds: the first full backup of one
// source (a disk or a share), captured at the source's site with no daemon
// and no vault, carried on a disk to the vault host and imported there
// (FORMAT.md, "Seeds").
//
// A seed is a one-target blockstore (layout 1+0) whose key is wrapped under
// the seed passphrase, plus a manifest sealed with that store's key: the
// capture (root, time, source identity, byte counts) and the size and
// SHA-256 of every object of the target ("pack"), so a tampered or truncated
// seed is refused, naming the pack, before anything is imported. Create uses
// the same capture code as a backup (vmdisk.Backup, fileshare.Backup); Open
// verifies a seed and rebuilds its index in a scratch directory; the caller
// copies the point into a vault with vmdisk.Rekey or fileshare.Rekey.
package seed
