package guest

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// ext2/3/4 reader, written from the kernel's Documentation/filesystems/ext4.
// Superblock offsets (from byte 1024 of the volume):
const (
	extSbInodes     = 0x00
	extSbBlocksLo   = 0x04
	extSbFirstData  = 0x14
	extSbLogBlock   = 0x18
	extSbBlocksPerG = 0x20
	extSbInodesPerG = 0x28
	extSbRevLevel   = 0x4C
	extSbInodeSize  = 0x58
	extSbIncompat   = 0x60
	extSbDescSize   = 0xFE
	extSbFirstMeta  = 0x104
	extSbBlocksHi   = 0x150

	extIncompatCompression = 0x1
	extIncompatFiletype    = 0x2
	extIncompatJournalDev  = 0x8
	extIncompatMetaBG      = 0x10
	extIncompat64Bit       = 0x80
	extIncompatKnown       = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000

	extFlagExtents = 0x80000
	extFlagInline  = 0x10000000

	extRootIno = 2
)

type extFS struct {
	r          io.ReaderAt
	size       int64
	bs         int64
	inodeSize  int64
	ipg        uint64
	inodes     uint64
	filetype   bool
	inodeTable []uint64 // per group
	cache      *blockCache
}

func openExt(r io.ReaderAt, size int64) (backend, error) {
	sb, err := readAt(r, 1024, 1024)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if le.Uint16(sb[0x38:]) != 0xEF53 {
		return nil, corruptf("ext: no superblock magic")
	}
	logBS := le.Uint32(sb[extSbLogBlock:])
	if logBS > 6 {
		return nil, corruptf("ext: block size 1024<<%d", logBS)
	}
	e := &extFS{r: r, size: size, bs: 1024 << logBS, inodeSize: 128,
		ipg: uint64(le.Uint32(sb[extSbInodesPerG:])), inodes: uint64(le.Uint32(sb[extSbInodes:]))}
	incompat := le.Uint32(sb[extSbIncompat:])
	if incompat&^extIncompatKnown != 0 || incompat&(extIncompatCompression|extIncompatJournalDev) != 0 {
		return nil, fmt.Errorf("ext: incompatible features 0x%x: %w", incompat, ErrUnsupported)
	}
	e.filetype = incompat&extIncompatFiletype != 0
	if le.Uint32(sb[extSbRevLevel:]) >= 1 {
		e.inodeSize = int64(le.Uint16(sb[extSbInodeSize:]))
	}
	if e.inodeSize < 128 || e.inodeSize > e.bs || e.inodeSize&(e.inodeSize-1) != 0 {
		return nil, corruptf("ext: inode size %d", e.inodeSize)
	}
	blocks := uint64(le.Uint32(sb[extSbBlocksLo:]))
	descSize := int64(32)
	if incompat&extIncompat64Bit != 0 {
		blocks |= uint64(le.Uint32(sb[extSbBlocksHi:])) << 32
		descSize = int64(le.Uint16(sb[extSbDescSize:]))
		if descSize < 32 || descSize > 1024 || descSize&(descSize-1) != 0 {
			return nil, corruptf("ext: group descriptor size %d", descSize)
		}
	}
	bpg := uint64(le.Uint32(sb[extSbBlocksPerG:]))
	first := uint64(le.Uint32(sb[extSbFirstData:]))
	if bpg == 0 || e.ipg == 0 || first >= blocks || blocks > uint64(size/e.bs)+1 {
		return nil, corruptf("ext: %d blocks (%d per group), %d inodes per group in a %d-byte volume", blocks, bpg, e.ipg, size)
	}
	groups := (blocks - first + bpg - 1) / bpg
	if groups*e.ipg < e.inodes || groups > 1<<24 {
		return nil, corruptf("ext: %d groups cannot hold %d inodes", groups, e.inodes)
	}
	metaBG := uint64(1 << 62)
	if incompat&extIncompatMetaBG != 0 {
		metaBG = uint64(le.Uint32(sb[extSbFirstMeta:]))
	}
	if err := e.readGroups(groups, first, bpg, descSize, metaBG); err != nil {
		return nil, err
	}
	e.cache = newBlockCache(r, e.bs)
	return e, nil
}

// readGroups loads each group's inode table location. Without meta_bg the
// descriptors follow the superblock's block; with meta_bg, descriptors of
// meta-group m (from s_first_meta_bg on) sit in the first group of m, after
// its superblock backup if it has one.
func (e *extFS) readGroups(groups, first, bpg uint64, descSize int64, metaBG uint64) error {
	perBlock := uint64(e.bs / descSize)
	e.inodeTable = make([]uint64, groups)
	var blk []byte
	blkNo := uint64(0)
	for g := uint64(0); g < groups; g++ {
		m := g / perBlock
		var want uint64
		if m < metaBG {
			want = first + 1 + m
		} else {
			g0 := m * perBlock
			want = first + g0*bpg + extHasSuper(g0)
		}
		if blk == nil || want != blkNo {
			var err error
			if blk, err = readAt(e.r, int(e.bs), int64(want)*e.bs); err != nil {
				return fmt.Errorf("ext: group descriptors: %w", err)
			}
			blkNo = want
		}
		d := blk[(g%perBlock)*uint64(descSize):]
		t := uint64(binary.LittleEndian.Uint32(d[0x08:]))
		if descSize >= 64 {
			t |= uint64(binary.LittleEndian.Uint32(d[0x28:])) << 32
		}
		e.inodeTable[g] = t
	}
	return nil
}

// extHasSuper is 1 if group g holds a superblock backup (sparse_super: 0, 1
// and powers of 3, 5 and 7).
func extHasSuper(g uint64) uint64 {
	if g <= 1 {
		return 1
	}
	for _, b := range []uint64{3, 5, 7} {
		p := b
		for p < g {
			p *= b
		}
		if p == g {
			return 1
		}
	}
	return 0
}

// extInode is a raw inode.
type extInode struct {
	ino uint64
	b   []byte
}

func (e *extFS) inode(ino uint64) (*extInode, error) {
	if ino == 0 || ino > e.inodes {
		return nil, corruptf("ext: inode %d out of range", ino)
	}
	g, idx := (ino-1)/e.ipg, (ino-1)%e.ipg
	off := int64(e.inodeTable[g])*e.bs + int64(idx)*e.inodeSize
	b, err := e.cache.read(off, int(e.inodeSize))
	if err != nil {
		return nil, fmt.Errorf("ext: inode %d: %w", ino, err)
	}
	return &extInode{ino: ino, b: b}, nil
}

func (in *extInode) mode() uint16  { return binary.LittleEndian.Uint16(in.b[0:]) }
func (in *extInode) flags() uint32 { return binary.LittleEndian.Uint32(in.b[0x20:]) }
func (in *extInode) size() int64 {
	return int64(uint64(binary.LittleEndian.Uint32(in.b[0x04:])) | uint64(binary.LittleEndian.Uint32(in.b[0x6C:]))<<32)
}

func (in *extInode) extraTime(sec uint32, extraOff int) time.Time {
	s := int64(int32(sec))
	var ns int64
	if len(in.b) >= extraOff+4 && 0x80+int(binary.LittleEndian.Uint16(in.b[0x80:])) >= extraOff+4 {
		x := binary.LittleEndian.Uint32(in.b[extraOff:])
		s += int64(x&3) << 32
		ns = int64(x >> 2)
		if ns >= 1e9 {
			ns = 0
		}
	}
	return time.Unix(s, ns)
}

func (in *extInode) entry(name string) Entry {
	le := binary.LittleEndian
	m := in.mode()
	en := Entry{Name: name, Mode: unixMode(uint32(m)), Size: in.size(), Ino: in.ino,
		Uid:   uint32(le.Uint16(in.b[0x02:])) | uint32(le.Uint16(in.b[0x78:]))<<16,
		Gid:   uint32(le.Uint16(in.b[0x18:])) | uint32(le.Uint16(in.b[0x7A:]))<<16,
		Nlink: uint32(le.Uint16(in.b[0x1A:])),
	}
	en.ModTime = in.extraTime(le.Uint32(in.b[0x10:]), 0x88)
	return en
}

// inlineXattr returns the value of the in-inode extended attribute
// "system.data", which holds inline data beyond the 60 bytes of i_block.
// After the extra inode fields: magic EA020000, then entries of name_len(1)
// name_index(1) value_offs(2) value_inum(4) value_size(4) hash(4) name,
// padded to 4 bytes, ended by 4 zero bytes; value offsets count from the
// first entry.
func (in *extInode) inlineXattr() ([]byte, error) {
	le := binary.LittleEndian
	if len(in.b) <= 0x84 {
		return nil, corruptf("ext: inode %d: inline data needs large inodes", in.ino)
	}
	start := 0x80 + int(le.Uint16(in.b[0x80:]))
	if start+4 > len(in.b) || le.Uint32(in.b[start:]) != 0xEA020000 {
		return nil, corruptf("ext: inode %d: no in-inode xattrs for inline data", in.ino)
	}
	first := start + 4
	for p := first; p+16 <= len(in.b) && le.Uint32(in.b[p:]) != 0; {
		nl := int(in.b[p])
		if p+16+nl > len(in.b) {
			break
		}
		if in.b[p+1] == 7 && string(in.b[p+16:p+16+nl]) == "data" {
			off, n := first+int(le.Uint16(in.b[p+2:])), int(le.Uint32(in.b[p+8:]))
			if off < first || off+n > len(in.b) || n < 0 {
				return nil, corruptf("ext: inode %d: system.data xattr out of bounds", in.ino)
			}
			return in.b[off : off+n], nil
		}
		p += (16 + nl + 3) &^ 3
	}
	return nil, corruptf("ext: inode %d: system.data xattr missing", in.ino)
}

// unixMode converts st_mode bits to fs.FileMode.
func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	switch m & 0o170000 {
	case 0o040000:
		mode |= fs.ModeDir
	case 0o120000:
		mode |= fs.ModeSymlink
	case 0o100000:
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o140000:
		mode |= fs.ModeSocket
	default:
		mode |= fs.ModeIrregular
	}
	return mode
}

func (e *extFS) root() (Entry, error) {
	in, err := e.inode(extRootIno)
	if err != nil {
		return Entry{}, err
	}
	return in.entry("."), nil
}

// data returns a reader over an inode's contents.
func (e *extFS) data(in *extInode) (File, error) {
	size := in.size()
	if size < 0 {
		return nil, corruptf("ext: inode %d: size %d", in.ino, size)
	}
	fl := in.flags()
	switch {
	case fl&extFlagInline != 0:
		b := append([]byte(nil), in.b[0x28:0x28+60]...)
		if size > 60 {
			more, err := in.inlineXattr()
			if err != nil {
				return nil, err
			}
			b = append(b, more...)
		}
		if int64(len(b)) < size {
			return nil, corruptf("ext: inode %d: %d bytes of inline data for size %d", in.ino, len(b), size)
		}
		return &memFile{b: b[:size]}, nil
	case fl&extFlagExtents != 0:
		exts, err := e.extentTree(in.b[0x28:0x28+60], 0, new(int))
		if err != nil {
			return nil, fmt.Errorf("ext: inode %d: %w", in.ino, err)
		}
		if exts, err = normalize(exts); err != nil {
			return nil, fmt.Errorf("ext: inode %d: %w", in.ino, err)
		}
		return &blockFile{r: e.r, bs: e.bs, size: size, exts: exts}, nil
	default:
		exts, err := e.indirectMap(in, size)
		if err != nil {
			return nil, fmt.Errorf("ext: inode %d: %w", in.ino, err)
		}
		return &blockFile{r: e.r, bs: e.bs, size: size, exts: exts}, nil
	}
}

// extentTree walks an extent tree node. Header: magic F30A, entries, max,
// depth; then 12-byte entries — leaf: block, len, start_hi(16), start_lo;
// index: block, leaf_lo, leaf_hi(16).
func (e *extFS) extentTree(node []byte, level int, count *int) ([]extent, error) {
	le := binary.LittleEndian
	if len(node) < 12 || le.Uint16(node) != 0xF30A {
		return nil, corruptf("bad extent header")
	}
	n := int(le.Uint16(node[2:]))
	depth := int(le.Uint16(node[6:]))
	if 12+12*n > len(node) || depth > 5 || level > 5 {
		return nil, corruptf("extent node with %d entries at depth %d", n, depth)
	}
	var out []extent
	for i := 0; i < n; i++ {
		ent := node[12+12*i:]
		if depth == 0 {
			if *count++; *count > maxExtents {
				return nil, corruptf("more than %d extents", maxExtents)
			}
			l := uint64(le.Uint16(ent[4:]))
			x := extent{lblk: uint64(le.Uint32(ent)), pblk: uint64(le.Uint16(ent[6:]))<<32 | uint64(le.Uint32(ent[8:]))}
			if l > 32768 {
				l -= 32768
				x.unwritten = true
			}
			x.n = l
			out = append(out, x)
			continue
		}
		if *count += 16; *count > maxExtents { // index blocks count 16 toward the cap
			return nil, corruptf("extent tree too large")
		}
		child := uint64(le.Uint16(ent[8:]))<<32 | uint64(le.Uint32(ent[4:]))
		blk, err := readAt(e.r, int(e.bs), int64(child)*e.bs)
		if err != nil {
			return nil, err
		}
		sub, err := e.extentTree(blk, level+1, count)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

// indirectMap reads the ext2/3 block map: 12 direct pointers, then single,
// double and triple indirect blocks. Only blocks below the file size count.
func (e *extFS) indirectMap(in *extInode, size int64) ([]extent, error) {
	nblk := uint64((size + e.bs - 1) / e.bs)
	var exts []extent
	add := func(l, p uint64) error {
		if p == 0 {
			return nil
		}
		if k := len(exts) - 1; k >= 0 && exts[k].lblk+exts[k].n == l && exts[k].pblk+exts[k].n == p {
			exts[k].n++
			return nil
		}
		if len(exts) >= maxExtents {
			return corruptf("more than %d extents", maxExtents)
		}
		exts = append(exts, extent{lblk: l, pblk: p, n: 1})
		return nil
	}
	ptr := func(i int) uint64 { return uint64(binary.LittleEndian.Uint32(in.b[0x28+4*i:])) }
	l := uint64(0)
	for i := 0; i < 12 && l < nblk; i, l = i+1, l+1 {
		if err := add(l, ptr(i)); err != nil {
			return nil, err
		}
	}
	per := uint64(e.bs / 4)
	var walk func(blk uint64, depth int) error
	walk = func(blk uint64, depth int) error {
		if blk == 0 { // a hole covering per^(depth+1) blocks
			span := uint64(1)
			for d := 0; d <= depth; d++ {
				span *= per
			}
			l += span
			return nil
		}
		b, err := readAt(e.r, int(e.bs), int64(blk)*e.bs)
		if err != nil {
			return err
		}
		for j := uint64(0); j < per && l < nblk; j++ {
			p := uint64(binary.LittleEndian.Uint32(b[4*j:]))
			if depth == 0 {
				if err := add(l, p); err != nil {
					return err
				}
				l++
				continue
			}
			if err := walk(p, depth-1); err != nil {
				return err
			}
		}
		return nil
	}
	for d := 0; d < 3 && l < nblk; d++ {
		if err := walk(ptr(12+d), d); err != nil {
			return nil, err
		}
	}
	return exts, nil
}

func (e *extFS) readDir(dir *Entry) ([]Entry, error) {
	in, err := e.inode(dir.Ino)
	if err != nil {
		return nil, err
	}
	f, err := e.data(in)
	if err != nil {
		return nil, err
	}
	var out []Entry
	start := int64(0)
	if in.flags()&extFlagInline != 0 {
		start = 4 // parent inode number first
	}
	parse := func(b []byte, off int64) error {
		for p := 0; p+8 <= len(b); {
			ino := binary.LittleEndian.Uint32(b[p:])
			rec := int(binary.LittleEndian.Uint16(b[p+4:]))
			nlen := int(b[p+6])
			if !e.filetype {
				nlen |= int(b[p+7]) << 8
			}
			if rec < 8 || rec%4 != 0 || p+rec > len(b) || 8+nlen > rec {
				return corruptf("ext: directory inode %d: bad entry at %d", dir.Ino, off+int64(p))
			}
			name := string(b[p+8 : p+8+nlen])
			p += rec
			if ino == 0 || name == "." || name == ".." {
				continue
			}
			if len(out) >= maxDirEntries {
				return corruptf("ext: directory inode %d has more than %d entries", dir.Ino, maxDirEntries)
			}
			child, err := e.inode(uint64(ino))
			if err != nil {
				return err
			}
			ent := child.entry(name)
			if ent.Mode&fs.ModeSymlink != 0 {
				ent.Target, _ = e.readLink(&ent)
			}
			out = append(out, ent)
		}
		return nil
	}
	bf, ok := f.(*blockFile)
	if !ok { // inline directory
		b := make([]byte, max(f.Size()-start, 0))
		if err := readFull(f, b, start); err != nil {
			return nil, err
		}
		return out, parse(b, start)
	}
	blk := make([]byte, e.bs)
	err = bf.mapped(maxDirBytes, func(off, n int64) error {
		for end := off + n; off < end; off += e.bs {
			b := blk[:min(e.bs, end-off)]
			if err := readFull(f, b, off); err != nil {
				return err
			}
			if err := parse(b, off); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, nil
}

func (e *extFS) readLink(en *Entry) (string, error) {
	in, err := e.inode(en.Ino)
	if err != nil {
		return "", err
	}
	size := in.size()
	if size <= 0 || size > maxSymlink {
		return "", corruptf("ext: symlink inode %d has length %d", en.Ino, size)
	}
	if in.flags()&(extFlagExtents|extFlagInline) == 0 && size < 60 {
		return string(in.b[0x28 : 0x28+size]), nil // fast symlink
	}
	f, err := e.data(in)
	if err != nil {
		return "", err
	}
	b := make([]byte, size)
	if err := readFull(f, b, 0); err != nil {
		return "", err
	}
	return string(b), nil
}

func (e *extFS) open(en *Entry) (File, error) {
	in, err := e.inode(en.Ino)
	if err != nil {
		return nil, err
	}
	return e.data(in)
}

// memFile is a small file held in memory.
type memFile struct{ b []byte }

func (m *memFile) Size() int64 { return int64(len(m.b)) }
func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
