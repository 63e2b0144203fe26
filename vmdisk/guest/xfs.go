package guest

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// XFS reader, written from "XFS Algorithms & Data Structures" (3rd ed.). All
// on-disk integers are big-endian. Superblock offsets:
const (
	xfsSbBlockSize = 4
	xfsSbDBlocks   = 8
	xfsSbRootIno   = 56
	xfsSbAGBlocks  = 84
	xfsSbAGCount   = 88
	xfsSbVersion   = 100
	xfsSbInodeSize = 104
	xfsSbInopbLog  = 123
	xfsSbAGBlkLog  = 124
	xfsSbDirBlkLog = 192
	xfsSbFeatures2 = 200
	xfsSbIncompat  = 216

	xfsIncompatFtype = 0x1
	xfsV2Ftype       = 0x200
	xfsLeafOffset    = 32 << 30 // directory data blocks live below this offset
)

type xfsFS struct {
	r         io.ReaderAt
	bs        int64
	agBlocks  uint64
	agCount   uint64
	agBlkLog  uint
	inopbLog  uint
	inodeSize int64
	rootIno   uint64
	v5        bool
	ftype     bool
	dirBlk    int64
	cache     *blockCache
}

func openXFS(r io.ReaderAt, size int64) (backend, error) {
	sb, err := readAt(r, 512, 0)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	if string(sb[:4]) != "XFSB" {
		return nil, corruptf("xfs: no superblock magic")
	}
	x := &xfsFS{r: r, bs: int64(be.Uint32(sb[xfsSbBlockSize:])), agBlocks: uint64(be.Uint32(sb[xfsSbAGBlocks:])),
		agCount: uint64(be.Uint32(sb[xfsSbAGCount:])), agBlkLog: uint(sb[xfsSbAGBlkLog]), inopbLog: uint(sb[xfsSbInopbLog]),
		inodeSize: int64(be.Uint16(sb[xfsSbInodeSize:])), rootIno: be.Uint64(sb[xfsSbRootIno:])}
	ver := be.Uint16(sb[xfsSbVersion:]) & 0xF
	x.v5 = ver == 5
	if x.v5 {
		x.ftype = be.Uint32(sb[xfsSbIncompat:])&xfsIncompatFtype != 0
	} else {
		x.ftype = be.Uint32(sb[xfsSbFeatures2:])&xfsV2Ftype != 0
	}
	if x.bs < 512 || x.bs > 65536 || x.bs&(x.bs-1) != 0 || x.inodeSize < 256 && x.v5 || x.inodeSize < 128 ||
		x.inodeSize > x.bs || x.agBlkLog > 32 || x.inopbLog > 8 || x.agBlocks == 0 || x.agCount == 0 ||
		x.agBlocks > 1<<x.agBlkLog || ver < 4 || ver > 5 || sb[xfsSbDirBlkLog] > 8 {
		return nil, corruptf("xfs: implausible superblock (version %d, block %d, inode %d)", ver, x.bs, x.inodeSize)
	}
	if dblocks := be.Uint64(sb[xfsSbDBlocks:]); dblocks > uint64(size/x.bs)+x.agBlocks {
		return nil, corruptf("xfs: %d blocks do not fit in a %d-byte volume", dblocks, size)
	}
	x.dirBlk = x.bs << sb[xfsSbDirBlkLog]
	x.cache = newBlockCache(r, x.bs)
	return x, nil
}

// fsb converts a file-system block number (AG number and AG block packed)
// to a linear block number.
func (x *xfsFS) fsb(b uint64) uint64 {
	return (b>>x.agBlkLog)*x.agBlocks + b&(1<<x.agBlkLog-1)
}

type xfsInode struct {
	ino uint64
	b   []byte
}

func (x *xfsFS) inode(ino uint64) (*xfsInode, error) {
	agShift := x.agBlkLog + x.inopbLog
	ag := ino >> agShift
	agbno := (ino >> x.inopbLog) & (1<<x.agBlkLog - 1)
	if ag >= x.agCount || agbno >= x.agBlocks {
		return nil, corruptf("xfs: inode %d out of range", ino)
	}
	off := int64(ag*x.agBlocks+agbno)*x.bs + int64(ino&(1<<x.inopbLog-1))*x.inodeSize
	b, err := x.cache.read(off, int(x.inodeSize))
	if err != nil {
		return nil, fmt.Errorf("xfs: inode %d: %w", ino, err)
	}
	if string(b[:2]) != "IN" {
		return nil, corruptf("xfs: inode %d: bad magic", ino)
	}
	return &xfsInode{ino: ino, b: b}, nil
}

func (in *xfsInode) version() byte { return in.b[4] }
func (in *xfsInode) format() byte  { return in.b[5] }
func (in *xfsInode) size() int64   { return int64(binary.BigEndian.Uint64(in.b[56:])) }
func (in *xfsInode) flags2() uint64 {
	if in.version() < 3 {
		return 0
	}
	return binary.BigEndian.Uint64(in.b[120:])
}

// nextents is the data-fork extent count (64-bit with the nrext64 feature).
func (in *xfsInode) nextents() uint64 {
	if in.flags2()&0x10 != 0 {
		return binary.BigEndian.Uint64(in.b[24:])
	}
	return uint64(binary.BigEndian.Uint32(in.b[76:]))
}

// dataFork returns the data fork bytes (after the 100- or 176-byte core, up
// to the attribute fork).
func (in *xfsInode) dataFork() ([]byte, error) {
	start := 100
	if in.version() >= 3 {
		start = 176
	}
	end := len(in.b)
	if fo := int(in.b[82]); fo != 0 {
		end = start + fo*8
	}
	if start > end || end > len(in.b) {
		return nil, corruptf("xfs: inode %d: fork offset %d", in.ino, in.b[82])
	}
	return in.b[start:end], nil
}

func (in *xfsInode) time(off int) time.Time {
	be := binary.BigEndian
	if in.flags2()&0x8 != 0 { // bigtime: nanoseconds since 1901-12-13
		ns := be.Uint64(in.b[off:])
		return time.Unix(int64(ns/1e9)-1<<31, int64(ns%1e9))
	}
	ns := int64(be.Uint32(in.b[off+4:]))
	if ns >= 1e9 {
		ns = 0
	}
	return time.Unix(int64(int32(be.Uint32(in.b[off:]))), ns)
}

// entry decodes the inode core (struct xfs_dinode in the XFS on-disk
// format document and fs/xfs/libxfs/xfs_format.h): mode 2, uid 8, gid 12,
// nlink 16 (v1: onlink 6), atime 32, mtime 40, ctime 48, nblocks 64 (in
// file-system blocks, as st_blocks counts them), crtime 144 (v3).
func (x *xfsFS) entry(in *xfsInode, name string) Entry {
	be := binary.BigEndian
	e := Entry{Name: name, Ino: in.ino, Mode: unixMode(uint32(be.Uint16(in.b[2:]))), Size: in.size(),
		Uid: be.Uint32(in.b[8:]), Gid: be.Uint32(in.b[12:]),
		Atime: in.time(32), ModTime: in.time(40), Ctime: in.time(48)}
	if nb := be.Uint64(in.b[64:]); nb < 1<<40 {
		e.Blocks = int64(nb) * (x.bs / 512)
	}
	if in.version() == 1 {
		e.Nlink = uint32(be.Uint16(in.b[6:]))
	} else {
		e.Nlink = be.Uint32(in.b[16:])
	}
	if in.version() >= 3 {
		e.Btime = in.time(144)
	}
	if e.Mode&fs.ModeDevice != 0 && in.format() == 0 {
		if fork, err := in.dataFork(); err == nil && len(fork) >= 4 {
			// xfs_dev_t: major in the top 14 bits, minor in the low 18
			d := be.Uint32(fork)
			e.Rdev = mkdev((d>>18)&0x1ff, d&0x3ffff)
		}
	}
	return e
}

func (x *xfsFS) root() (Entry, error) {
	in, err := x.inode(x.rootIno)
	if err != nil {
		return Entry{}, err
	}
	return x.entry(in, "."), nil
}

// bmbtRec unpacks a 128-bit extent record: flag(1) startoff(54)
// startblock(52) blockcount(21).
func (x *xfsFS) bmbtRec(b []byte) extent {
	l0, l1 := binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
	return extent{
		unwritten: l0>>63 != 0,
		lblk:      (l0 & (1<<63 - 1)) >> 9,
		pblk:      x.fsb((l0&(1<<9-1))<<43 | l1>>21),
		n:         l1 & (1<<21 - 1),
	}
}

// extents returns the data fork's extent list (extents or btree format).
func (x *xfsFS) extents(in *xfsInode) ([]extent, error) {
	fork, err := in.dataFork()
	if err != nil {
		return nil, err
	}
	return x.forkExtents(in, fork, in.format(), in.nextents())
}

// forkExtents reads the extent list of a fork in extents (2) or btree (3)
// format holding n extent records.
func (x *xfsFS) forkExtents(in *xfsInode, fork []byte, format byte, n uint64) ([]extent, error) {
	var out []extent
	switch format {
	case 2: // extents
		if n > uint64(len(fork)/16) {
			return nil, corruptf("xfs: inode %d: %d extents in a %d-byte fork", in.ino, n, len(fork))
		}
		for i := uint64(0); i < n; i++ {
			out = append(out, x.bmbtRec(fork[16*i:]))
		}
	case 3: // btree: bmdr root in the inode: level, numrecs, keys, then ptrs
		if len(fork) < 4 {
			return nil, corruptf("xfs: inode %d: short btree root", in.ino)
		}
		level := binary.BigEndian.Uint16(fork)
		n := int(binary.BigEndian.Uint16(fork[2:]))
		maxr := (len(fork) - 4) / 16
		if level == 0 || level > 8 || n > maxr {
			return nil, corruptf("xfs: inode %d: btree root level %d with %d records", in.ino, level, n)
		}
		count := 0
		for i := 0; i < n; i++ {
			ptr := binary.BigEndian.Uint64(fork[4+maxr*8+8*i:])
			if err := x.bmbtWalk(ptr, int(level)-1, &out, &count); err != nil {
				return nil, fmt.Errorf("xfs: inode %d: %w", in.ino, err)
			}
		}
	default:
		return nil, corruptf("xfs: inode %d: fork format %d has no extents", in.ino, format)
	}
	return normalize(out)
}

// bmbtWalk reads a long-form btree block: magic BMAP/BMA3, level, numrecs,
// siblings (and on v5 blkno, lsn, uuid, owner, crc) then records or keys
// and pointers.
func (x *xfsFS) bmbtWalk(fsbno uint64, level int, out *[]extent, count *int) error {
	b, err := readAt(x.r, int(x.bs), int64(x.fsb(fsbno))*x.bs)
	if err != nil {
		return err
	}
	hdr := 24
	if x.v5 {
		hdr = 72
	}
	if m := string(b[:4]); m != "BMAP" && m != "BMA3" {
		return corruptf("bad btree block magic %q", m)
	}
	lv := int(binary.BigEndian.Uint16(b[4:]))
	n := int(binary.BigEndian.Uint16(b[6:]))
	maxr := (len(b) - hdr) / 16
	if lv != level || n > maxr {
		return corruptf("btree block at level %d (want %d) with %d records", lv, level, n)
	}
	for i := 0; i < n; i++ {
		if level == 0 {
			if *count++; *count > maxExtents {
				return corruptf("more than %d extents", maxExtents)
			}
			*out = append(*out, x.bmbtRec(b[hdr+16*i:]))
			continue
		}
		if *count += 16; *count > maxExtents { // index blocks count toward the cap
			return corruptf("btree too large")
		}
		ptr := binary.BigEndian.Uint64(b[hdr+maxr*8+8*i:])
		if err := x.bmbtWalk(ptr, level-1, out, count); err != nil {
			return err
		}
	}
	return nil
}

func (x *xfsFS) file(in *xfsInode) (*blockFile, error) {
	if in.size() < 0 {
		return nil, corruptf("xfs: inode %d: size", in.ino)
	}
	exts, err := x.extents(in)
	if err != nil {
		return nil, err
	}
	return &blockFile{r: x.r, bs: x.bs, size: in.size(), exts: exts}, nil
}

func (x *xfsFS) open(e *Entry) (File, error) {
	in, err := x.inode(e.Ino)
	if err != nil {
		return nil, err
	}
	if in.format() == 1 && in.size() == 0 {
		return &memFile{}, nil
	}
	return x.file(in)
}
