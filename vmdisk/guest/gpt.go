package guest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"unicode/utf16"
)

// GPT header (at LBA 1, backup at the last LBA):
//
//	0 "EFI PART"  8 revision  12 header size  16 header CRC32  24 my LBA
//	32 alternate LBA  40 first usable  48 last usable  56 disk GUID
//	72 entries LBA  80 number of entries  84 entry size  88 entries CRC32
//
// Entry: 0 type GUID, 16 unique GUID, 32 first LBA, 40 last LBA (inclusive),
// 48 attributes, 56 name (36 UTF-16LE code units).
const (
	gptMaxEntries = 4096
	gptMaxTable   = 1 << 20 // bytes of entry array
)

// hasGPT reports whether a GPT header signature is at LBA 1 for sector size
// ss.
func hasGPT(r io.ReaderAt, ss int64) bool {
	b := make([]byte, 8)
	return readFull(r, b, ss) == nil && string(b) == "EFI PART"
}

// parseGPT reads the primary table and falls back to the backup one.
func parseGPT(r io.ReaderAt, size, ss int64) ([]part, error) {
	parts, err := parseGPTAt(r, size, ss, 1)
	if err == nil {
		return parts, nil
	}
	last := size/ss - 1
	if parts2, err2 := parseGPTAt(r, size, ss, last); err2 == nil {
		return parts2, nil
	}
	return nil, fmt.Errorf("primary and backup GPT: %w", err)
}

func parseGPTAt(r io.ReaderAt, size, ss, lba int64) ([]part, error) {
	h, err := readAt(r, int(ss), lba*ss)
	if err != nil {
		return nil, err
	}
	if string(h[:8]) != "EFI PART" {
		return nil, corruptf("GPT header at LBA %d: no signature", lba)
	}
	hsize := binary.LittleEndian.Uint32(h[12:])
	if hsize < 92 || int64(hsize) > ss {
		return nil, corruptf("GPT header at LBA %d: size %d", lba, hsize)
	}
	want := binary.LittleEndian.Uint32(h[16:])
	hc := append([]byte(nil), h[:hsize]...)
	copy(hc[16:20], []byte{0, 0, 0, 0})
	if crc32.ChecksumIEEE(hc) != want {
		return nil, corruptf("GPT header at LBA %d: checksum mismatch", lba)
	}
	entLBA := int64(binary.LittleEndian.Uint64(h[72:]))
	count := binary.LittleEndian.Uint32(h[80:])
	esize := binary.LittleEndian.Uint32(h[84:])
	if esize < 128 || esize%8 != 0 || count > gptMaxEntries || int64(count)*int64(esize) > gptMaxTable {
		return nil, corruptf("GPT header at LBA %d: %d entries of %d bytes", lba, count, esize)
	}
	if entLBA <= 0 || entLBA > size/ss {
		return nil, corruptf("GPT header at LBA %d: entry array at LBA %d is outside the disk", lba, entLBA)
	}
	tbl, err := readAt(r, int(count*esize), entLBA*ss)
	if err != nil {
		return nil, fmt.Errorf("GPT entries: %w", err)
	}
	if crc32.ChecksumIEEE(tbl) != binary.LittleEndian.Uint32(h[88:]) {
		return nil, corruptf("GPT entry array at LBA %d: checksum mismatch", entLBA)
	}
	var parts []part
	zero := make([]byte, 16)
	for i := 0; i < int(count); i++ {
		e := tbl[i*int(esize):]
		if bytes.Equal(e[:16], zero) {
			continue
		}
		first, last := int64(binary.LittleEndian.Uint64(e[32:])), int64(binary.LittleEndian.Uint64(e[40:]))
		if first <= 0 || last < first || last > 1<<47/ss {
			return nil, corruptf("GPT entry %d: LBAs %d..%d", i+1, first, last)
		}
		parts = append(parts, part{num: i + 1, start: first * ss, size: (last - first + 1) * ss,
			ptype: guidString(e[:16]), label: utf16Name(e[56:128])})
	}
	return parts, nil
}

// guidString formats a mixed-endian GUID as GPT tools print it.
func guidString(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:16])
}

func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return strings.ToValidUTF8(string(utf16.Decode(u)), "?")
}
