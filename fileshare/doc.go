// Package fileshare captures directory trees (mounted NFS/SMB exports or any
// local path) into recovery points, incrementally, with content-defined
// chunking, and restores them without ever writing outside the target.
//
// A point is a tree of objects stored as chunks through package blockstore:
// a root object, one directory object per directory (leaf pages of sorted
// entries, plus an index for big directories), and extent lists for huge
// files. The byte layout, chunking parameters and small-file handling are in
// FORMAT.md.
//
// Where things are:
//
//	api.go            options, results, the small store interfaces used here
//	node.go           Node: one decoded entry (what the FUSE mount serves)
//	format.go         object layouts and encoders; decode.go the validating decoders
//	cdc.go            FastCDC-style chunker (gear hash, normalized, 256K/1M/4M)
//	backup.go         Backup: the pipeline (one walker, N readers, errgroup)
//	walk.go, file.go  the walker: entries, metadata, hardlinks, incremental reuse
//	meta.go           stat → Node, xattrs, user/group names
//	pending.go        entries still being read; leaf pages and indexes
//	reader.go         readers: sparse-aware reading, chunking, change detection
//	extents.go        extent lists for files with many extents
//	cursor.go         streaming over a stored directory (previous point, restore)
//	tree.go           OpenTree/Lookup/Child/ReadDir; filereader.go ReadAt, SeekData/SeekHole
//	restore*.go       Restore: safe creation under dst, conflicts, workers
//	verify.go         post-restore verification against chunk ids
//	refs.go           Refs: every chunk a point references (GC mark)
package fileshare
