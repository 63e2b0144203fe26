package blockstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Shard object "seg/<segment id as 16 hex digits>.<shard index>":
//
//	off  size  field (integers little-endian)
//	0    8     magic "RWSHARD\x00"
//	8    2     format version (1)
//	10   1     shard index i (0..k+m-1; i < k are data shards)
//	11   1     k, data shards
//	12   1     m, parity shards
//	13   3     zero
//	16   8     segment id
//	24   8     shard length S (bytes of shard data)
//	32   8     segment data length L (k*(S-1) < L <= k*S)
//	40   4     block size B (power of two, 4 KiB..16 MiB)
//	44   4     CRC32-C of the block table
//	48   12    zero
//	60   4     CRC32-C of bytes 0..59
//	64   4*N   block table: CRC32-C of each B-byte block of shard data, N = ceil(S/B)
//	...  S     shard data: data shard i holds segment bytes [i*S, (i+1)*S),
//	           zero-padded past L; parity shards hold Reed-Solomon parity.
const (
	shardHeaderLen   = 64
	shardVersion     = 1
	defaultBlockSize = 64 << 10
	maxShardLen      = 1 << 40
)

var (
	shardMagic = []byte("RWSHARD\x00")
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// shardHeader is a parsed, checked shard header with its block table.
type shardHeader struct {
	segment  uint64
	index    int
	k, m     int
	shardLen int64
	dataLen  int64
	block    int64
	table    []uint32
}

func shardName(seg uint64, i int) string { return fmt.Sprintf("seg/%016x.%d", seg, i) }

// parseShardName is the inverse of shardName.
func parseShardName(name string) (seg uint64, i int, ok bool) {
	rest, ok := strings.CutPrefix(name, "seg/")
	if !ok || len(rest) < 18 || rest[16] != '.' {
		return 0, 0, false
	}
	seg, err := strconv.ParseUint(rest[:16], 16, 64)
	i, err2 := strconv.Atoi(rest[17:])
	return seg, i, err == nil && err2 == nil && name == shardName(seg, i)
}

func (h *shardHeader) blocks() int      { return int((h.shardLen + h.block - 1) / h.block) }
func (h *shardHeader) prefixLen() int64 { return shardHeaderLen + 4*int64(h.blocks()) }

// encodeShard builds a whole shard object around data.
func encodeShard(seg uint64, i, k, m int, dataLen int64, data []byte) []byte {
	return append(shardPrefix(seg, i, k, m, dataLen, data), data...)
}

// shardPrefix builds the header and block table that precede data.
func shardPrefix(seg uint64, i, k, m int, dataLen int64, data []byte) []byte {
	h := shardHeader{segment: seg, index: i, k: k, m: m, shardLen: int64(len(data)),
		dataLen: dataLen, block: defaultBlockSize}
	out := make([]byte, h.prefixLen(), h.prefixLen()+int64(len(data)))
	tbl := out[shardHeaderLen:]
	for b := 0; b < h.blocks(); b++ {
		lo := int64(b) * h.block
		binary.LittleEndian.PutUint32(tbl[4*b:], crc(data[lo:min(lo+h.block, h.shardLen)]))
	}
	copy(out, shardMagic)
	binary.LittleEndian.PutUint16(out[8:], shardVersion)
	out[10], out[11], out[12] = byte(i), byte(k), byte(m)
	binary.LittleEndian.PutUint64(out[16:], seg)
	binary.LittleEndian.PutUint64(out[24:], uint64(h.shardLen))
	binary.LittleEndian.PutUint64(out[32:], uint64(dataLen))
	binary.LittleEndian.PutUint32(out[40:], uint32(h.block))
	binary.LittleEndian.PutUint32(out[44:], crc(tbl))
	binary.LittleEndian.PutUint32(out[60:], crc(out[:60]))
	return out
}

// parseShardHeader checks the fixed 64-byte header (b may be longer).
func parseShardHeader(b []byte) (*shardHeader, error) {
	if len(b) < shardHeaderLen {
		return nil, fmt.Errorf("shard header truncated (%d bytes)", len(b))
	}
	if !bytes.Equal(b[:8], shardMagic) {
		return nil, fmt.Errorf("not a shard object (bad magic)")
	}
	if binary.LittleEndian.Uint32(b[60:]) != crc(b[:60]) {
		return nil, fmt.Errorf("shard header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != shardVersion {
		return nil, fmt.Errorf("unknown shard version %d", v)
	}
	h := &shardHeader{index: int(b[10]), k: int(b[11]), m: int(b[12]),
		segment:  binary.LittleEndian.Uint64(b[16:]),
		shardLen: int64(binary.LittleEndian.Uint64(b[24:])),
		dataLen:  int64(binary.LittleEndian.Uint64(b[32:])),
		block:    int64(binary.LittleEndian.Uint32(b[40:]))}
	return h, h.validate()
}

func (h *shardHeader) validate() error {
	switch {
	case h.k < 1 || h.k+h.m > 255 || h.index >= h.k+h.m:
		return fmt.Errorf("bad shard geometry %d of %d+%d", h.index, h.k, h.m)
	case h.block < 4<<10 || h.block > 16<<20 || h.block&(h.block-1) != 0:
		return fmt.Errorf("bad block size %d", h.block)
	case h.shardLen < 1 || h.shardLen > maxShardLen:
		return fmt.Errorf("bad shard length %d", h.shardLen)
	case h.dataLen <= int64(h.k)*(h.shardLen-1) || h.dataLen > int64(h.k)*h.shardLen:
		return fmt.Errorf("segment length %d does not fit shard length %d", h.dataLen, h.shardLen)
	}
	return nil
}

// parseBlockTable checks and stores the block table that follows the header.
func (h *shardHeader) parseBlockTable(hdr, tbl []byte) error {
	if len(tbl) < 4*h.blocks() {
		return fmt.Errorf("block table truncated")
	}
	tbl = tbl[:4*h.blocks()]
	if crc(tbl) != binary.LittleEndian.Uint32(hdr[44:]) {
		return fmt.Errorf("block table checksum mismatch")
	}
	h.table = make([]uint32, h.blocks())
	for i := range h.table {
		h.table[i] = binary.LittleEndian.Uint32(tbl[4*i:])
	}
	return nil
}

// decodeShardPrefix parses header and block table from the start of an object.
func decodeShardPrefix(b []byte) (*shardHeader, error) {
	h, err := parseShardHeader(b)
	if err != nil {
		return nil, err
	}
	return h, h.parseBlockTable(b, b[shardHeaderLen:])
}

// checkBlocks verifies data, which starts at block-aligned shard offset off.
func (h *shardHeader) checkBlocks(data []byte, off int64) error {
	for lo := int64(0); lo < int64(len(data)); lo += h.block {
		hi := min(lo+h.block, int64(len(data)))
		b := (off + lo) / h.block
		if crc(data[lo:hi]) != h.table[b] {
			return fmt.Errorf("block %d checksum mismatch", b)
		}
	}
	return nil
}
