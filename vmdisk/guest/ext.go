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
	extSbROCompat   = 0x64
	extSbDescSize   = 0xFE
	extSbFirstMeta  = 0x104
	extSbBlocksHi   = 0x150

	extIncompatCompression = 0x1
	extIncompatFiletype    = 0x2
	extIncompatJournalDev  = 0x8
	extIncompatMetaBG      = 0x10
	extIncompat64Bit       = 0x80
	extIncompatKnown       = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000

	extROCompatHugeFile = 0x8

	extFlagHugeFile = 0x40000
	extFlagExtents  = 0x80000
	extFlagInline   = 0x10000000

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
	hugeFile   bool     // i_blocks_hi is used (ro_compat huge_file)
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
	e.hugeFile = le.Uint32(sb[extSbROCompat:])&extROCompatHugeFile != 0
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

// entry decodes an inode (offsets from the ext4 disk layout document,
// Documentation/filesystems/ext4/inodes.rst: i_atime 0x08, i_ctime 0x0C,
// i_mtime 0x10, i_links_count 0x1A, i_blocks_lo 0x1C, l_i_blocks_high
// 0x74, i_crtime 0x90, the *_extra words 0x84–0x94).
func (e *extFS) entry(in *extInode, name string) Entry {
	le := binary.LittleEndian
	m := in.mode()
	en := Entry{Name: name, Mode: unixMode(uint32(m)), Size: in.size(), Ino: in.ino,
		Uid:    uint32(le.Uint16(in.b[0x02:])) | uint32(le.Uint16(in.b[0x78:]))<<16,
		Gid:    uint32(le.Uint16(in.b[0x18:])) | uint32(le.Uint16(in.b[0x7A:]))<<16,
		Nlink:  uint32(le.Uint16(in.b[0x1A:])),
		Blocks: e.blocks(in),
	}
	en.Atime = in.extraTime(le.Uint32(in.b[0x08:]), 0x8C)
	en.Ctime = in.extraTime(le.Uint32(in.b[0x0C:]), 0x84)
	en.ModTime = in.extraTime(le.Uint32(in.b[0x10:]), 0x88)
	if len(in.b) >= 0x98 && 0x80+int(le.Uint16(in.b[0x80:])) >= 0x98 {
		en.Btime = in.extraTime(le.Uint32(in.b[0x90:]), 0x94)
	}
	if en.Mode&fs.ModeDevice != 0 {
		en.Rdev = in.rdev()
	}
	return en
}

// blocks is i_blocks in 512-byte units: 48 bits with huge_file, counted in
// file-system blocks when the inode has EXT4_HUGE_FILE_FL.
func (e *extFS) blocks(in *extInode) int64 {
	le := binary.LittleEndian
	n := uint64(le.Uint32(in.b[0x1C:]))
	if e.hugeFile {
		n |= uint64(le.Uint16(in.b[0x74:])) << 32
		if in.flags()&extFlagHugeFile != 0 {
			n *= uint64(e.bs / 512)
		}
	}
	return int64(n & (1<<62 - 1))
}

// rdev decodes a device inode's number from i_block, as the kernel's
// ext4_set_inode_rdev: i_block[0] holds the old 8:8 encoding when non-zero,
// else i_block[1] the new one (minor low 8 bits, major 12, minor high 12).
func (in *extInode) rdev() uint64 {
	le := binary.LittleEndian
	if old := le.Uint32(in.b[0x28:]); old != 0 {
		return mkdev((old>>8)&0xff, old&0xff)
	}
	v := le.Uint32(in.b[0x2C:])
	return mkdev((v&0xfff00)>>8, (v&0xff)|((v>>12)&0xfff00))
}

// mkdev encodes major and minor as a Linux dev_t (glibc's makedev).
func mkdev(major, minor uint32) uint64 {
	ma, mi := uint64(major), uint64(minor)
	return (ma&0xfffff000)<<32 | (ma&0xfff)<<8 | (mi&0xffffff00)<<12 | mi&0xff
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
	return e.entry(in, "."), nil
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

// Data is the whole file (empty for an empty file).
func (m *memFile) Data() []Range {
	if len(m.b) == 0 {
		return nil
	}
	return []Range{{Off: 0, Len: int64(len(m.b))}}
}
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
