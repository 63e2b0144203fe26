// Package vmdisk captures and restores VM disk images: raw files, block
// devices, NBD exports (a native NBD client) and qcow2 images (through
// qemu-nbd), with changed-block tracking from dirty bitmaps, changed-block
// lists, or hash comparison. A disk point is a block map of 4 MiB blocks
// stored as chunks (FORMAT.md).
//
// Entry points: Backup makes a point, BackupResult.Commit rotates the
// source's change tracking after the caller's catalog commit, Restore writes a
// point to a file, device, NBD export or new qcow2, OpenImage reads a point
// at random, Refs lists the chunks a point references for GC, ReadChain reads
// and checks a qcow2 image's backing chain from its headers.
//
// Layout of the package:
//
//	api.go, backup.go, restore.go, image.go, refs.go   the exported surface
//	blockmap.go, mapio.go                               block map encoding and streaming
//	session.go, plan.go, pipeline.go                    one backup: method choice, planner, reader/hasher/collector
//	source*.go, sink*.go                                files and devices; restore targets
//	nbd_*.go                                            the NBD client (handshake, requests, reply checking)
//	qcow2.go, qemu*.go, restore_qcow2.go                qemu-nbd, qemu-img, bitmap generations
//	qcow2hdr.go, chain*.go, qcow2chain.go               qcow2 headers read in Go: the backing chain, confined
//	                                                    to the image's directory and source roots, handed to qemu
//	cbt.go, state.go                                    changed-block lists; source state
//
// vmdisk imports only blockstore of this module.
package vmdisk
