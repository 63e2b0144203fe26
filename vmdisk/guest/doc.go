// Package guest finds what is inside a VM disk image so the mount and
// "rewind restore files" can show it: partition tables (MBR with extended
// and logical partitions, GPT), linear LVM2 logical volumes, and the files of
// ext2/3/4, XFS, FAT12/16/32 and NTFS volumes.
//
// Two entry points:
//
//	Probe(ctx, disk, size)  → Layout: the table kind and every volume, each with
//	                          its own bounded io.ReaderAt, a detected type, and
//	                          for volumes whose files are not shown, a Reason.
//	OpenFS(ctx, vol, size, typ) → FS: path-based, read-only, concurrency-safe.
//
// An FS gives each entry's full metadata as the guest recorded it: owners,
// modes, link counts, device numbers, nanosecond times of any year,
// st_blocks, xattrs with POSIX ACLs in the Linux xattr format (extxattr.go,
// xfsattr.go, acl.go), and each file's data/hole map (File.Data). Names that cannot be
// one path element, or repeat, are shown escaped (escape.go).
//
// Every byte read here comes from a backup of an arbitrary VM and is treated
// as hostile: all reads go through bounds-checked section readers, every loop
// over on-disk structures is capped, and the third-party NTFS parser runs
// under recover and a deadline. Corrupt structures give errors wrapping
// ErrCorrupt, never a panic or a hang. See FORMAT.md.
package guest
