// Package fsmount serves recovery points as a read-only go-fuse file system:
// share trees as backed up, and disk points as disk.img, partitions and the
// files inside their guest file systems.
//
// Layout of the package:
//
//	mount.go     Mount, Options, Mounted (Unmount, Wait), mount options, bdi read-ahead
//	catalog.go   what the caller provides: Catalog, ChunkReader, PointInfo; point names
//	node.go      the read-only node model every tree is served through (Dir, File, Symlink, …)
//	root.go, item.go, point.go
//	             the catalog directories: items, points, latest; points opened lazily
//	fusenode.go, fusedir.go, fusefile.go, readonly.go
//	             the go-fuse layer over the node model: attributes, inode numbers,
//	             listings, reads with read-ahead, SEEK_DATA/SEEK_HOLE, EROFS for writes
//	inodes.go    inode numbering (stable for the mount's life; hardlinks share)
//	cache.go     ChunkCache: bounded LRU of decoded chunks with single-flight fetches
//	open.go      which adapter opens which kind of point
//	share.go     adapter: fileshare trees
//	disk.go, guestfs.go, static.go
//	             adapter: vmdisk images, vmdisk/guest volumes and their files, README.txt
//
// FORMAT.md describes the layout, inode numbers and caching;
// BENCHMARKS.md the measured speed.
package fsmount
