package vmdisk

import (
	"bytes"
	"encoding/binary"
	"io"
)

// sigProbe is how much of a device Signature reads: btrfs's superblock
// magic sits at 64 KiB + 64.
const sigProbe = 68 << 10

// magic is a byte string at a fixed offset.
type magic struct {
	off  int
	text string
	what string
}

// magics, most specific first (a FAT or NTFS boot sector also ends in 0x55AA).
var magics = []magic{
	{0, "XFSB", "an XFS file system"},
	{0, "LUKS\xba\xbe", "a LUKS encrypted volume"},
	{3, "NTFS    ", "an NTFS file system"},
	{0x36, "FAT1", "a FAT file system"},
	{0x52, "FAT32   ", "a FAT32 file system"},
	{512, "EFI PART", "a GPT partition table"},
	{4096, "EFI PART", "a GPT partition table (4 KiB sectors)"},
	{4096 - 10, "SWAPSPACE2", "a swap area"},
	{4096 - 10, "SWAP-SPACE", "a swap area"},
	{0x10040, "_BHRfS_M", "a btrfs file system"},
}

// Signature names what the first sectors of r hold — a partition table, a
// file system, an LVM physical volume, swap or LUKS — or "" when it finds
// none of those it knows (an unknown format is not proof of a blank device).
// Byte layouts: ext2/3/4 superblock magic 0xEF53 (little endian) at 1080;
// LVM2 "LABELONE" at the start of one of the first four 512-byte sectors;
// MBR boot signature 0x55 0xAA at 510.
func Signature(r io.ReaderAt) string {
	b := make([]byte, sigProbe)
	n, _ := r.ReadAt(b, 0)
	b = b[:n]
	for _, m := range magics {
		if len(b) >= m.off+len(m.text) && string(b[m.off:m.off+len(m.text)]) == m.text {
			return m.what
		}
	}
	if len(b) >= 1082 && binary.LittleEndian.Uint16(b[1080:]) == 0xEF53 {
		return "an ext2/3/4 file system"
	}
	for s := 0; s < 4 && len(b) >= s*512+8; s++ {
		if bytes.Equal(b[s*512:s*512+8], []byte("LABELONE")) {
			return "an LVM physical volume"
		}
	}
	if len(b) >= 512 && b[510] == 0x55 && b[511] == 0xAA {
		return "an MBR partition table (or boot sector)"
	}
	return ""
}
