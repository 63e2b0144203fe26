package guest

import (
	"bytes"
	"encoding/binary"
	"io"
)

// detect names what is on a volume from its magic numbers. It reads at most
// the first 68 KiB.
func detect(r io.ReaderAt, size int64) string {
	head := make([]byte, 4096)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	at := func(off int, magic string) bool {
		return len(head) >= off+len(magic) && string(head[off:off+len(magic)]) == magic
	}
	switch {
	case at(0, "LUKS\xba\xbe") || at(0, "SKUL\xba\xbe"):
		return TypeLUKS
	case at(3, "-FVE-FS-"):
		return TypeBitLocker
	case at(0, "XFSB"):
		return TypeXFS
	case at(3, "NTFS    "):
		return TypeNTFS
	case at(3, "EXFAT   "):
		return TypeExFAT
	case hasLVMLabel(head):
		return TypeLVM2PV
	case len(head) >= 1024+100 && binary.LittleEndian.Uint16(head[1024+56:]) == 0xEF53:
		return extKind(head[1024:])
	case isFATBoot(head, size):
		return TypeVFAT
	case at(4096-10, "SWAPSPACE2") || at(4096-10, "SWAP-SPACE"):
		return TypeSwap
	}
	b := make([]byte, 8)
	if _, err := r.ReadAt(b, 0x10040); err == nil && string(b) == "_BHRfS_M" {
		return TypeBtrfs
	}
	return TypeUnknown
}

// extKind tells ext2, ext3 and ext4 apart by feature flags, like blkid.
func extKind(sb []byte) string {
	compat := binary.LittleEndian.Uint32(sb[0x5C:])
	incompat := binary.LittleEndian.Uint32(sb[0x60:])
	roCompat := binary.LittleEndian.Uint32(sb[0x64:])
	// incompat: extents 0x40, 64bit 0x80, flex_bg 0x200, ea_inode 0x400,
	// inline_data 0x8000; ro_compat: huge_file 0x8, gdt_csum 0x10,
	// dir_nlink 0x20, extra_isize 0x40, metadata_csum 0x400.
	switch {
	case incompat&(0x40|0x80|0x200|0x400|0x8000) != 0 || roCompat&(0x8|0x10|0x20|0x40|0x400) != 0:
		return TypeExt4
	case compat&0x4 != 0: // has_journal
		return TypeExt3
	}
	return TypeExt2
}

// isFATBoot checks a FAT boot sector's BIOS parameter block for sane values.
func isFATBoot(b []byte, size int64) bool {
	if len(b) < 512 || b[510] != 0x55 || b[511] != 0xAA {
		return false
	}
	if !(b[0] == 0xEB || b[0] == 0xE9) {
		return false
	}
	_, err := parseBPB(b, size)
	return err == nil
}

// isVBR reports whether sector 0 is a file system's boot sector rather than an
// MBR (both end in 55 AA).
func isVBR(b []byte, size int64) bool {
	return bytes.Equal(b[3:11], []byte("NTFS    ")) || bytes.Equal(b[3:11], []byte("-FVE-FS-")) || isFATBoot(b, size)
}
