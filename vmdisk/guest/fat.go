package guest

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// FAT12/16/32 reader, written from Microsoft's "FAT: General Overview of
// On-Disk Format". BIOS parameter block offsets in the boot sector:
//
//	11 bytes/sector  13 sectors/cluster  14 reserved sectors  16 FATs
//	17 root entries  19 total sectors (16)  22 sectors/FAT (16)
//	32 total sectors (32)  36 sectors/FAT (32)  44 root cluster (32)
type bpb struct {
	bps, spc          int64
	fatStart, fatSize int64 // bytes
	rootStart         int64 // FAT12/16 fixed root directory, bytes
	rootEntries       int64
	dataStart         int64 // bytes
	clusters          uint32
	bits              int // 12, 16 or 32
	rootCluster       uint32
}

func parseBPB(b []byte, size int64) (*bpb, error) {
	le := binary.LittleEndian
	p := &bpb{bps: int64(le.Uint16(b[11:])), spc: int64(b[13])}
	rsvd, nfats := int64(le.Uint16(b[14:])), int64(b[16])
	p.rootEntries = int64(le.Uint16(b[17:]))
	tot := int64(le.Uint16(b[19:]))
	if tot == 0 {
		tot = int64(le.Uint32(b[32:]))
	}
	fatSec := int64(le.Uint16(b[22:]))
	if fatSec == 0 {
		fatSec = int64(le.Uint32(b[36:]))
	}
	if p.bps < 512 || p.bps > 4096 || p.bps&(p.bps-1) != 0 || p.spc == 0 || p.spc&(p.spc-1) != 0 ||
		rsvd == 0 || nfats == 0 || nfats > 4 || fatSec == 0 || tot == 0 {
		return nil, corruptf("FAT: implausible BIOS parameter block")
	}
	rootSec := (p.rootEntries*32 + p.bps - 1) / p.bps
	dataSec := tot - rsvd - nfats*fatSec - rootSec
	if dataSec <= 0 {
		return nil, corruptf("FAT: no data area")
	}
	n := dataSec / p.spc
	switch {
	case n < 4085:
		p.bits = 12
	case n < 65525:
		p.bits = 16
	default:
		p.bits = 32
		p.rootCluster = le.Uint32(b[44:])
	}
	if n > 0x0FFFFFF5 {
		return nil, corruptf("FAT: %d clusters", n)
	}
	p.clusters = uint32(n)
	p.fatStart, p.fatSize = rsvd*p.bps, fatSec*p.bps
	if int64(p.clusters+2)*int64(p.bits)/8 > p.fatSize {
		return nil, corruptf("FAT: table of %d bytes cannot map %d clusters", p.fatSize, n)
	}
	p.rootStart = p.fatStart + nfats*p.fatSize
	p.dataStart = p.rootStart + rootSec*p.bps
	return p, nil
}

type fatFS struct {
	r  io.ReaderAt
	p  *bpb
	cs int64 // cluster size

	mu    sync.Mutex
	cache map[int64][]byte // 64 KiB pieces of the first FAT
}

const (
	fatPiece      = 64 << 10
	fatCachePiece = 256
	fatRootIno    = 1
)

func openFAT(r io.ReaderAt, size int64) (backend, error) {
	b, err := readAt(r, 512, 0)
	if err != nil {
		return nil, err
	}
	p, err := parseBPB(b, size)
	if err != nil {
		return nil, err
	}
	f := &fatFS{r: r, p: p, cs: p.bps * p.spc, cache: map[int64][]byte{}}
	if p.bits == 32 && (p.rootCluster < 2 || p.rootCluster >= p.clusters+2) {
		return nil, corruptf("FAT32: root cluster %d", p.rootCluster)
	}
	return f, nil
}

// next returns the FAT entry of cluster c.
func (f *fatFS) next(c uint32) (uint32, error) {
	off := int64(c) * int64(f.p.bits) / 8
	piece := off / fatPiece
	f.mu.Lock()
	buf, ok := f.cache[piece]
	f.mu.Unlock()
	if !ok {
		n := min(fatPiece+4, f.p.fatSize-piece*fatPiece)
		var err error
		if buf, err = readAt(f.r, int(n), f.p.fatStart+piece*fatPiece); err != nil {
			return 0, fmt.Errorf("FAT: table: %w", err)
		}
		f.mu.Lock()
		if len(f.cache) >= fatCachePiece {
			clear(f.cache)
		}
		f.cache[piece] = buf
		f.mu.Unlock()
	}
	i := off - piece*fatPiece
	if i+4 > int64(len(buf)) && f.p.bits == 32 || i+2 > int64(len(buf)) {
		return 0, corruptf("FAT: entry %d outside the table", c)
	}
	le := binary.LittleEndian
	switch f.p.bits {
	case 12:
		v := uint32(le.Uint16(buf[i:]))
		if c&1 == 1 {
			return v >> 4, nil
		}
		return v & 0xFFF, nil
	case 16:
		return uint32(le.Uint16(buf[i:])), nil
	}
	return le.Uint32(buf[i:]) & 0x0FFFFFFF, nil
}

func (f *fatFS) isEOC(v uint32) bool {
	switch f.p.bits {
	case 12:
		return v >= 0xFF8
	case 16:
		return v >= 0xFFF8
	}
	return v >= 0x0FFFFFF8
}

// chain follows clusters from first and returns them as extents (data-area
// block = cluster-2). limit caps the number of clusters (-1: the volume's).
func (f *fatFS) chain(first uint32, limit int64) ([]extent, error) {
	var exts []extent
	if limit < 0 || limit > int64(f.p.clusters) {
		limit = int64(f.p.clusters)
	}
	c := first
	for n := int64(0); n < limit; n++ {
		if c < 2 || c >= f.p.clusters+2 {
			return nil, corruptf("FAT: cluster %d in chain from %d is out of range", c, first)
		}
		l := uint64(n)
		if k := len(exts) - 1; k >= 0 && exts[k].pblk+exts[k].n == uint64(c-2) {
			exts[k].n++
		} else {
			if len(exts) >= maxExtents {
				return nil, corruptf("FAT: chain from %d is too fragmented", first)
			}
			exts = append(exts, extent{lblk: l, pblk: uint64(c - 2), n: 1})
		}
		next, err := f.next(c)
		if err != nil {
			return nil, err
		}
		if f.isEOC(next) {
			return exts, nil
		}
		c = next
	}
	if limit == int64(f.p.clusters) {
		return nil, corruptf("FAT: chain from %d loops", first)
	}
	return exts, nil // long enough for the file's size
}

func (f *fatFS) root() (Entry, error) {
	return Entry{Name: ".", Mode: fs.ModeDir | 0o755, Ino: fatRootIno, Nlink: 2, Blocks: -1, ref: uint64(f.p.rootCluster)}, nil
}

// dirData returns a reader over a directory's entries.
func (f *fatFS) dirData(dir *Entry) (io.ReaderAt, int64, error) {
	if dir.Ino == fatRootIno && f.p.bits != 32 {
		n := f.p.rootEntries * 32
		return newSection(f.r, f.p.rootStart, n), n, nil
	}
	if dir.ref == 0 {
		return nil, 0, corruptf("FAT: directory without clusters")
	}
	exts, err := f.chain(uint32(dir.ref), (65536*32+f.cs-1)/f.cs)
	if err != nil {
		return nil, 0, err
	}
	var n int64
	for _, e := range exts {
		n += int64(e.n) * f.cs
	}
	return &blockFile{r: f.r, bs: f.cs, base: f.p.dataStart, size: n, exts: exts}, n, nil
}

func (f *fatFS) readDir(dir *Entry) ([]Entry, error) {
	r, n, err := f.dirData(dir)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n) // ≤ 65536 entries of 32 bytes (+ one cluster)
	if err := readFull(r, buf, 0); err != nil {
		return nil, err
	}
	var base int64 = -1 // volume byte offset of the directory data, for Ino
	if dir.Ino == fatRootIno && f.p.bits != 32 {
		base = f.p.rootStart
	}
	var out []Entry
	var lfn []uint16
	var lfnSum byte
	for i := 0; i+32 <= len(buf); i += 32 {
		d := buf[i : i+32]
		switch {
		case d[0] == 0:
			return out, nil
		case d[0] == 0xE5:
			lfn = nil
			continue
		case d[11]&0x3F == 0x0F: // long-name piece, stored last piece first
			if d[0]&0x40 != 0 {
				lfn, lfnSum = nil, d[13]
			}
			lfn = append(lfnPiece(d), lfn...)
			continue
		case d[11]&0x08 != 0: // volume label
			lfn = nil
			continue
		}
		name := shortName(d)
		if lfn != nil && lfnSum == shortSum(d) {
			name = lfnString(lfn)
		}
		lfn = nil
		if name == "." || name == ".." {
			continue
		}
		if len(out) >= maxDirEntries {
			return out, corruptf("FAT: too many entries")
		}
		ino := uint64(i)
		if base >= 0 {
			ino += uint64(base)
		} else {
			ino = f.entryOffset(r.(*blockFile), int64(i))
		}
		out = append(out, f.entry(d, name, ino))
	}
	return out, nil
}

// entryOffset maps an offset in a directory to its byte offset on the volume.
func (f *fatFS) entryOffset(b *blockFile, off int64) uint64 {
	lblk := uint64(off / f.cs)
	for _, e := range b.exts {
		if lblk >= e.lblk && lblk < e.lblk+e.n {
			return uint64(f.p.dataStart) + (e.pblk+lblk-e.lblk)*uint64(f.cs) + uint64(off%f.cs)
		}
	}
	return 0
}

func (f *fatFS) entry(d []byte, name string, ino uint64) Entry {
	le := binary.LittleEndian
	cl := uint32(le.Uint16(d[26:]))
	if f.p.bits == 32 {
		cl |= uint32(le.Uint16(d[20:])) << 16
	}
	e := Entry{Name: name, Ino: ino, Nlink: 1, ref: uint64(cl), Blocks: -1,
		ModTime: fatTime(le.Uint16(d[24:]), le.Uint16(d[22:])),
		Atime:   fatTime(le.Uint16(d[18:]), 0), // access date only
		Btime:   fatTime(le.Uint16(d[16:]), le.Uint16(d[14:])).Add(time.Duration(min(d[13], 199)) * 10 * time.Millisecond)}
	switch {
	case d[11]&0x10 != 0:
		e.Mode = fs.ModeDir | 0o755
	case d[11]&0x01 != 0:
		e.Mode = 0o444
		e.Size = int64(le.Uint32(d[28:]))
	default:
		e.Mode = 0o644
		e.Size = int64(le.Uint32(d[28:]))
	}
	return e
}

// fatTime decodes a DOS date and time (local time of the writer; reported as
// UTC). Date: year-1980(7) month(4) day(5); time: hour(5) min(6) sec/2(5).
func fatTime(date, tm uint16) time.Time {
	if date == 0 {
		return time.Unix(0, 0).UTC()
	}
	return time.Date(1980+int(date>>9), time.Month(date>>5&15), int(date&31),
		int(tm>>11), int(tm>>5&63), int(tm&31)*2, 0, time.UTC)
}

func shortName(d []byte) string {
	base := strings.TrimRight(string(d[0:8]), " ")
	ext := strings.TrimRight(string(d[8:11]), " ")
	if len(base) > 0 && base[0] == 0x05 {
		base = "\xe5" + base[1:]
	}
	if d[12]&0x08 != 0 {
		base = strings.ToLower(base)
	}
	if d[12]&0x10 != 0 {
		ext = strings.ToLower(ext)
	}
	name := base
	if ext != "" {
		name += "." + ext
	}
	return strings.ToValidUTF8(name, "_")
}

func shortSum(d []byte) byte {
	var s byte
	for i := 0; i < 11; i++ {
		s = (s>>1 | s<<7) + d[i]
	}
	return s
}

// lfnPiece returns the 13 UTF-16 units of a long-name entry (offsets 1, 14, 28).
func lfnPiece(d []byte) []uint16 {
	u := make([]uint16, 0, 13)
	for _, r := range [][2]int{{1, 5}, {14, 6}, {28, 2}} {
		for k := 0; k < r[1]; k++ {
			u = append(u, binary.LittleEndian.Uint16(d[r[0]+2*k:]))
		}
	}
	return u
}

func lfnString(u []uint16) string {
	for i, c := range u {
		if c == 0 {
			u = u[:i]
			break
		}
	}
	return string(utf16.Decode(u))
}

func (f *fatFS) readLink(*Entry) (string, error) { return "", fs.ErrInvalid }

// xattrs: FAT has none. Its creation time and access date are in Entry;
// its attribute bits map to the mode (read-only) only.
func (f *fatFS) xattrs(*Entry) ([]Xattr, error) { return nil, nil }

func (f *fatFS) open(e *Entry) (File, error) {
	if e.Size == 0 {
		return &memFile{}, nil
	}
	need := (e.Size + f.cs - 1) / f.cs
	exts, err := f.chain(uint32(e.ref), need)
	if err != nil {
		return nil, err
	}
	var have int64
	for _, x := range exts {
		have += int64(x.n)
	}
	if have < need {
		return nil, corruptf("FAT: file of %d bytes has only %d clusters", e.Size, have)
	}
	return &blockFile{r: f.r, bs: f.cs, base: f.p.dataStart, size: e.Size, exts: exts}, nil
}
