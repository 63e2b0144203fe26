package guest

import (
	"encoding/binary"
	"fmt"
	"io"
)

// part is one partition table entry, in bytes.
type part struct {
	num   int
	start int64
	size  int64
	ptype string
	label string
}

// MBR layout: four 16-byte entries at 446, signature 55 AA at 510.
// Entry: status(1) chs(3) type(1) chs(3) lba(4) sectors(4).
const (
	mbrEntries    = 446
	mbrMaxLogical = 128 // logical partitions followed in one EBR chain
)

func isExtended(t byte) bool { return t == 0x05 || t == 0x0F || t == 0x85 }

// looksLikeMBR checks the signature and that every entry's status byte is
// 0x00 or 0x80 and at least one entry is in use.
func looksLikeMBR(b []byte) bool {
	if len(b) < 512 || b[510] != 0x55 || b[511] != 0xAA {
		return false
	}
	used := false
	for i := 0; i < 4; i++ {
		e := b[mbrEntries+16*i:]
		if e[0] != 0 && e[0] != 0x80 {
			return false
		}
		if e[4] != 0 && binary.LittleEndian.Uint32(e[12:]) != 0 {
			used = true
		}
	}
	return used
}

// protectiveMBR reports whether an entry has type 0xEE (GPT protective).
func protectiveMBR(b []byte) bool {
	for i := 0; i < 4; i++ {
		if b[mbrEntries+16*i+4] == 0xEE {
			return true
		}
	}
	return false
}

// parseMBR returns primary partitions 1–4 and logical partitions 5+ (Linux
// numbering). The extended container itself is not returned. A broken EBR
// chain stops the walk and is reported together with what was found.
func parseMBR(r io.ReaderAt, b []byte) ([]part, error) {
	var parts []part
	var ext *part
	for i := 0; i < 4; i++ {
		e := b[mbrEntries+16*i:]
		t := e[4]
		lba, n := int64(binary.LittleEndian.Uint32(e[8:])), int64(binary.LittleEndian.Uint32(e[12:]))
		if t == 0 || n == 0 {
			continue
		}
		p := part{num: i + 1, start: lba * 512, size: n * 512, ptype: fmt.Sprintf("0x%02x", t)}
		if isExtended(t) {
			if ext == nil {
				ext = &p
			}
			continue
		}
		parts = append(parts, p)
	}
	if ext == nil {
		return parts, nil
	}
	logical, err := walkEBR(r, ext.start/512, ext.size/512)
	return append(parts, logical...), err
}

// walkEBR follows the chain of extended boot records. Each EBR's first entry
// is a logical partition relative to that EBR; its second entry points to
// the next EBR relative to the start of the extended partition.
func walkEBR(r io.ReaderAt, extStart, extLen int64) ([]part, error) {
	var parts []part
	seen := map[int64]bool{}
	ebr := extStart
	sec := make([]byte, 512)
	for num := 5; ; num++ {
		if seen[ebr] || len(seen) >= mbrMaxLogical {
			return parts, corruptf("extended partition: EBR chain loops or is longer than %d", mbrMaxLogical)
		}
		seen[ebr] = true
		if err := readFull(r, sec, ebr*512); err != nil {
			return parts, fmt.Errorf("extended partition: EBR at sector %d: %w", ebr, err)
		}
		if sec[510] != 0x55 || sec[511] != 0xAA {
			return parts, corruptf("extended partition: EBR at sector %d has no 55 AA signature", ebr)
		}
		e0, e1 := sec[mbrEntries:], sec[mbrEntries+16:]
		if t, n := e0[4], binary.LittleEndian.Uint32(e0[12:]); t != 0 && n != 0 {
			start := ebr + int64(binary.LittleEndian.Uint32(e0[8:]))
			parts = append(parts, part{num: num, start: start * 512, size: int64(n) * 512, ptype: fmt.Sprintf("0x%02x", t)})
		} else {
			num-- // an empty EBR does not use a number
		}
		next := int64(binary.LittleEndian.Uint32(e1[8:]))
		if !isExtended(e1[4]) || next == 0 {
			return parts, nil
		}
		if next >= extLen {
			return parts, corruptf("extended partition: next EBR at +%d lies outside it", next)
		}
		ebr = extStart + next
	}
}
