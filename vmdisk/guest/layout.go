package guest

import (
	"errors"
	"fmt"
	"io"
)

// ErrCorrupt marks errors caused by bad on-disk data (as opposed to I/O
// failures of the underlying reader). Test with errors.Is(err, ErrCorrupt).
var ErrCorrupt = errors.New("corrupt or unsupported on-disk structure")

// ErrUnsupported is returned by OpenFS for a type it cannot read.
var ErrUnsupported = errors.New("file system type not supported")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Table kinds reported in Layout.Table.
const (
	TableGPT  = "gpt"
	TableMBR  = "mbr"
	TableNone = "none"
)

// Volume types reported in Volume.Type. OpenFS accepts the first six.
const (
	TypeExt2      = "ext2"
	TypeExt3      = "ext3"
	TypeExt4      = "ext4"
	TypeXFS       = "xfs"
	TypeVFAT      = "vfat"
	TypeNTFS      = "ntfs"
	TypeLUKS      = "luks"
	TypeBitLocker = "bitlocker"
	TypeLVM2PV    = "lvm2-pv"
	TypeSwap      = "swap"
	TypeBtrfs     = "btrfs"
	TypeExFAT     = "exfat"
	TypeUnknown   = "unknown"
)

// WholeDiskName is the Volume.Name of a file system or LVM PV found on a disk
// without a partition table; its files appear under files/disk/ and its image
// is disk.img itself.
const WholeDiskName = "disk"

// Layout is what Probe found on a disk.
type Layout struct {
	// Table is TableGPT, TableMBR or TableNone.
	Table string
	// Volumes in mount order: partitions by number, then LVM logical volumes
	// by VG and LV name. A whole-disk file system is one volume named "disk".
	Volumes []Volume
	// Err is set when the partition table (or LVM metadata) is corrupt; the
	// volumes that could still be found are listed. Reason is a one-line text
	// for the mount's README.txt.
	Err    error
	Reason string
}

// Volume is a partition, an LVM logical volume, or the whole disk.
type Volume struct {
	// Name: partition number ("1", "5"), "<vg>-<lv>", or WholeDiskName.
	Name string
	// Path of the image under the disk point: "partitions/1.img",
	// "lvm/vg0/root.img", or "disk.img" for a whole-disk volume.
	Path string
	// FilesDir is where the files appear ("files/1", "files/vg0-root",
	// "files/disk"), or "" when they are not shown (then Reason says why).
	FilesDir string
	// Offset is the byte offset on the disk for partitions and whole-disk
	// volumes; -1 for LVM logical volumes (they may have several segments,
	// read them through Reader).
	Offset int64
	// Size in bytes; Reader answers exactly [0, Size).
	Size int64
	// Type is one of the Type* constants.
	Type string
	// PartType is the MBR type byte ("0x83") or GPT type GUID; LVM: "lvm2".
	PartType string
	// Label is the GPT partition name or LVM LV name when known.
	Label string
	// Reason says why the files are not shown (text for README.txt), or "".
	Reason string
	// Err is a problem found with the volume: the error behind Reason, or
	// for a readable volume a warning (e.g. the partition runs past the end
	// of the image and was cut short).
	Err error
	// Reader reads the volume's bytes; reads outside [0, Size) return io.EOF.
	Reader io.ReaderAt
}

// Readable reports whether OpenFS can be tried on the volume.
func (v *Volume) Readable() bool { return v.FilesDir != "" }
