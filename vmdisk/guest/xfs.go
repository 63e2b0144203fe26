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

func (in *xfsInode) entry(name string) Entry {
	be := binary.BigEndian
	e := Entry{Name: name, Ino: in.ino, Mode: unixMode(uint32(be.Uint16(in.b[2:]))), Size: in.size(),
		Uid: be.Uint32(in.b[8:]), Gid: be.Uint32(in.b[12:]), ModTime: in.time(40)}
	if in.version() == 1 {
		e.Nlink = uint32(be.Uint16(in.b[6:]))
	} else {
		e.Nlink = be.Uint32(in.b[16:])
	}
	return e
}

func (x *xfsFS) root() (Entry, error) {
	in, err := x.inode(x.rootIno)
	if err != nil {
		return Entry{}, err
	}
	return in.entry("."), nil
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
	var out []extent
	switch in.format() {
	case 2: // extents
		n := in.nextents()
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
		return nil, corruptf("xfs: inode %d: data fork format %d has no extents", in.ino, in.format())
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

func (x *xfsFS) readDir(dir *Entry) ([]Entry, error) {
	in, err := x.inode(dir.Ino)
	if err != nil {
		return nil, err
	}
	var names []string
	var inos []uint64
	add := func(name string, ino uint64) error {
		if len(names) >= maxDirEntries {
			return corruptf("xfs: directory %d has too many entries", dir.Ino)
		}
		names, inos = append(names, name), append(inos, ino)
		return nil
	}
	if in.format() == 1 {
		err = x.shortformDir(in, add)
	} else {
		err = x.blockDir(in, add)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(names))
	for i, name := range names {
		child, err := x.inode(inos[i])
		if err != nil {
			return out, err
		}
		e := child.entry(name)
		if e.Mode&fs.ModeSymlink != 0 {
			e.Target, _ = x.readLinkInode(child)
		}
		out = append(out, e)
	}
	return out, nil
}

// shortformDir parses an inline directory: count, i8count, parent (4 or 8
// bytes), then entries: namelen, offset(2), name, [ftype], inumber (4/8).
func (x *xfsFS) shortformDir(in *xfsInode, add func(string, uint64) error) error {
	fork, err := in.dataFork()
	if err != nil {
		return err
	}
	if len(fork) < 6 {
		return corruptf("xfs: short directory")
	}
	count, i8 := int(fork[0]), fork[1] != 0 // i8count>0: all inode numbers are 8 bytes
	isz := 4
	if i8 {
		isz = 8
	}
	p := 2 + isz
	for i := 0; i < count; i++ {
		if p+3 > len(fork) {
			return corruptf("xfs: inode %d: short-form directory overruns its fork", in.ino)
		}
		nl := int(fork[p])
		q := p + 3 + nl
		if x.ftype {
			q++
		}
		if nl == 0 || q+isz > len(fork) {
			return corruptf("xfs: inode %d: short-form entry %d", in.ino, i)
		}
		name := string(fork[p+3 : p+3+nl])
		var ino uint64
		if i8 {
			ino = binary.BigEndian.Uint64(fork[q:])
		} else {
			ino = uint64(binary.BigEndian.Uint32(fork[q:]))
		}
		if err := add(name, ino); err != nil {
			return err
		}
		p = q + isz
	}
	return nil
}

// blockDir reads every data block of a block, leaf or node directory: the
// blocks below the 32 GiB leaf offset whose magic is XD2B/XDB3 (single block,
// with a leaf tail) or XD2D/XDD3 (data block).
func (x *xfsFS) blockDir(in *xfsInode, add func(string, uint64) error) error {
	f, err := x.file(in)
	if err != nil {
		return err
	}
	f.size = min(f.size, xfsLeafOffset)
	buf := make([]byte, x.dirBlk)
	return f.mapped(maxDirBytes, func(off, n int64) error {
		// directory blocks may span extents; read whole blocks from the
		// first block boundary inside this piece
		end := off + n
		off = (off + x.dirBlk - 1) / x.dirBlk * x.dirBlk
		for ; off < end && off+x.dirBlk <= f.size; off += x.dirBlk {
			if err := readFull(f, buf, off); err != nil {
				return err
			}
			if err := x.dirBlock(in, buf, add); err != nil {
				return err
			}
		}
		return nil
	})
}

// dirBlock parses one directory data block.
func (x *xfsFS) dirBlock(in *xfsInode, buf []byte, add func(string, uint64) error) error {
	hdr, limit := 16, len(buf)
	switch string(buf[:4]) {
	case "XD2B", "XDB3":
		count := int(binary.BigEndian.Uint32(buf[len(buf)-8:]))
		limit = len(buf) - 8 - 8*count
		if limit < 0 {
			return corruptf("xfs: directory %d: leaf count %d", in.ino, count)
		}
	case "XD2D", "XDD3":
	default:
		return nil // a block of another kind
	}
	if buf[3] == '3' {
		hdr = 64
	}
	if err := x.dataEntries(buf[:limit], hdr, add); err != nil {
		return fmt.Errorf("xfs: directory %d: %w", in.ino, err)
	}
	return nil
}

// dataEntries walks data entries: unused (FFFF, length) or inumber(8),
// namelen, name, [ftype], padding to 8, tag(2).
func (x *xfsFS) dataEntries(b []byte, p int, add func(string, uint64) error) error {
	for p+8 <= len(b) {
		if binary.BigEndian.Uint16(b[p:]) == 0xFFFF {
			l := int(binary.BigEndian.Uint16(b[p+2:]))
			if l < 8 || l%8 != 0 {
				return corruptf("free entry of %d bytes", l)
			}
			p += l
			continue
		}
		ino := binary.BigEndian.Uint64(b[p:])
		nl := int(b[p+8])
		size := 8 + 1 + nl + 2
		if x.ftype {
			size++
		}
		size = (size + 7) &^ 7
		if nl == 0 || p+size > len(b) {
			return corruptf("entry at %d overruns the block", p)
		}
		name := string(b[p+9 : p+9+nl])
		if name != "." && name != ".." {
			if err := add(name, ino); err != nil {
				return err
			}
		}
		p += size
	}
	return nil
}

func (x *xfsFS) readLink(e *Entry) (string, error) {
	in, err := x.inode(e.Ino)
	if err != nil {
		return "", err
	}
	return x.readLinkInode(in)
}

// readLinkInode reads an inline symlink, or remote symlink blocks (on v5
// each block starts with a 56-byte "XSLM" header).
func (x *xfsFS) readLinkInode(in *xfsInode) (string, error) {
	size := in.size()
	if size <= 0 || size > maxSymlink {
		return "", corruptf("xfs: symlink %d has length %d", in.ino, size)
	}
	if in.format() == 1 {
		fork, err := in.dataFork()
		if err != nil {
			return "", err
		}
		if int64(len(fork)) < size {
			return "", corruptf("xfs: symlink %d longer than its fork", in.ino)
		}
		return string(fork[:size]), nil
	}
	f, err := x.file(in)
	if err != nil {
		return "", err
	}
	if !x.v5 {
		b := make([]byte, size)
		return string(b), readFull(f, b, 0)
	}
	var out []byte
	f.size = int64(len(f.exts)+1) * x.bs * 2 // read whole blocks
	blk := make([]byte, x.bs)
	for off := int64(0); int64(len(out)) < size && off < 4*x.bs; off += x.bs {
		if err := readFull(f, blk, off); err != nil {
			return "", err
		}
		if string(blk[:4]) != "XSLM" {
			return "", corruptf("xfs: symlink %d: bad block header", in.ino)
		}
		n := int64(binary.BigEndian.Uint32(blk[8:]))
		if n > x.bs-56 {
			return "", corruptf("xfs: symlink %d: block holds %d bytes", in.ino, n)
		}
		out = append(out, blk[56:56+n]...)
	}
	if int64(len(out)) < size {
		return "", corruptf("xfs: symlink %d is short", in.ino)
	}
	return string(out[:size]), nil
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
