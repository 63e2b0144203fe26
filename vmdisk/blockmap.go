package vmdisk

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// Block map layout (all integers little-endian; FORMAT.md):
//
// Root object (one chunk):
//
//	[0:8)    magic "RWDMROOT"
//	[8:12)   version = 1
//	[12:16)  block size in bytes (4 MiB)
//	[16:24)  disk size in bytes
//	[24:28)  entries per page (16384)
//	[28:32)  page count P = ceil(blocks / entries per page)
//	[32:32+32P)  page chunk ids, in block order
//	then     u32 source-state length S, S bytes of source state
//
// Page object (one chunk per 16384 blocks):
//
//	[0:8)    magic "RWDMPAGE"
//	[8:12)   version = 1
//	[12:16)  entry count N (16384, fewer in the last page)
//	[16:16+32N)  one chunk id per block; all-zero id = block reads as zeros
const (
	mapVersion    = 1
	PageEntries   = 16384
	rootHeaderLen = 32
	pageHeaderLen = 16
	maxStateLen   = 64 << 10
)

var (
	rootMagic = []byte("RWDMROOT")
	pageMagic = []byte("RWDMPAGE")
)

// ErrBadMap marks a block map object that does not decode. It wraps
// blockstore.ErrCorruption so callers treat it as bad data.
var ErrBadMap = fmt.Errorf("disk block map: %w", blockstore.ErrCorruption)

// mapRoot is the decoded root object.
type mapRoot struct {
	size  int64
	pages []blockstore.ID
	state string
}

// blocks returns the number of blocks a disk of size bytes has.
func blocksFor(size int64) int64 { return (size + BlockSize - 1) / BlockSize }

// pagesFor returns the number of map pages for n blocks.
func pagesFor(n int64) int64 { return (n + PageEntries - 1) / PageEntries }

// blockLen returns the length of block i of a disk of size bytes.
func blockLen(size, i int64) int {
	return int(min(BlockSize, size-i*BlockSize))
}

func encodeRoot(r *mapRoot) []byte {
	b := make([]byte, rootHeaderLen, rootHeaderLen+len(r.pages)*blockstore.IDSize+4+len(r.state))
	copy(b, rootMagic)
	binary.LittleEndian.PutUint32(b[8:], mapVersion)
	binary.LittleEndian.PutUint32(b[12:], BlockSize)
	binary.LittleEndian.PutUint64(b[16:], uint64(r.size))
	binary.LittleEndian.PutUint32(b[24:], PageEntries)
	binary.LittleEndian.PutUint32(b[28:], uint32(len(r.pages)))
	for _, id := range r.pages {
		b = append(b, id[:]...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.state)))
	return append(b, r.state...)
}

func decodeRoot(b []byte) (*mapRoot, error) {
	bad := func(why string) error { return fmt.Errorf("%w: root object: %s", ErrBadMap, why) }
	if len(b) < rootHeaderLen+4 || string(b[:8]) != string(rootMagic) {
		return nil, bad("not a disk point root (bad magic or too short)")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != mapVersion {
		return nil, bad(fmt.Sprintf("version %d, this build reads %d", v, mapVersion))
	}
	if bs := binary.LittleEndian.Uint32(b[12:]); bs != BlockSize {
		return nil, bad(fmt.Sprintf("block size %d, want %d", bs, BlockSize))
	}
	if pe := binary.LittleEndian.Uint32(b[24:]); pe != PageEntries {
		return nil, bad(fmt.Sprintf("%d entries per page, want %d", pe, PageEntries))
	}
	size := binary.LittleEndian.Uint64(b[16:])
	if size > MaxDiskSize {
		return nil, bad(fmt.Sprintf("disk size %d out of range", size))
	}
	r := &mapRoot{size: int64(size)}
	np := int64(binary.LittleEndian.Uint32(b[28:]))
	if np != pagesFor(blocksFor(r.size)) {
		return nil, bad(fmt.Sprintf("%d pages for a %d-byte disk", np, size))
	}
	rest := b[rootHeaderLen:]
	if int64(len(rest)) < np*blockstore.IDSize+4 {
		return nil, bad("truncated page list")
	}
	r.pages = make([]blockstore.ID, np)
	for i := range r.pages {
		copy(r.pages[i][:], rest[i*blockstore.IDSize:])
	}
	rest = rest[np*blockstore.IDSize:]
	sl := binary.LittleEndian.Uint32(rest)
	if sl > maxStateLen || int(sl) != len(rest)-4 {
		return nil, bad("source state length does not match object")
	}
	r.state = string(rest[4:])
	return r, nil
}

func encodePage(ids []blockstore.ID) []byte {
	b := make([]byte, pageHeaderLen, pageHeaderLen+len(ids)*blockstore.IDSize)
	copy(b, pageMagic)
	binary.LittleEndian.PutUint32(b[8:], mapVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

// decodePage checks a page object holds exactly want entries.
func decodePage(b []byte, want int) ([]blockstore.ID, error) {
	if len(b) < pageHeaderLen || string(b[:8]) != string(pageMagic) {
		return nil, fmt.Errorf("%w: page object: bad magic or too short", ErrBadMap)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != mapVersion {
		return nil, fmt.Errorf("%w: page object: version %d", ErrBadMap, v)
	}
	n := int(binary.LittleEndian.Uint32(b[12:]))
	if n != want || len(b) != pageHeaderLen+n*blockstore.IDSize {
		return nil, fmt.Errorf("%w: page object: %d entries in %d bytes, want %d entries", ErrBadMap, n, len(b), want)
	}
	ids := make([]blockstore.ID, n)
	for i := range ids {
		copy(ids[i][:], b[pageHeaderLen+i*blockstore.IDSize:])
	}
	return ids, nil
}

// pageLen is the number of entries page p of a map with n blocks holds.
func pageLen(n, p int64) int { return int(min(PageEntries, n-p*PageEntries)) }

var errShortMap = errors.New("block map ended early")
