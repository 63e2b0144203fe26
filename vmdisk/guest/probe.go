package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Probe reads the partition table of disk (size bytes), every partition's
// type, and linear LVM2 logical volumes on partitions or the whole disk.
//
// A damaged table or LVM metadata is reported in Layout.Err/Reason (and in
// Volume.Err/Reason for one volume) with whatever could still be found; Probe
// itself fails only when ctx ends. It reads a few KiB per volume.
func Probe(ctx context.Context, disk io.ReaderAt, size int64) (l *Layout, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := newSection(disk, 0, size)
	l = &Layout{Table: TableNone}
	defer func() {
		if p := recover(); p != nil { // last line of defence
			l.Err = corruptf("probe: %v", p)
			l.Reason = "The disk layout could not be read: " + l.Err.Error()
			err = nil
		}
	}()
	parts, err := readTable(r, size, l)
	if err != nil {
		l.Err = err
		l.Reason = fmt.Sprintf("The %s partition table is damaged (%v); volumes after the damage are not shown. The whole disk is still in disk.img.", l.Table, err)
	}
	if l.Table == TableNone {
		v := Volume{Name: WholeDiskName, Path: "disk.img", Offset: 0, Size: size, Reader: r}
		v.Type = detect(r, size)
		if v.Type == TypeUnknown {
			v.Reason = "The disk has no partition table and no file system this version can read."
		}
		l.Volumes = append(l.Volumes, v)
	}
	for _, p := range parts {
		l.Volumes = append(l.Volumes, partVolume(r, size, p))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var pvs []*pvInfo
	for i := range l.Volumes {
		v := &l.Volumes[i]
		if v.Type != TypeLVM2PV {
			continue
		}
		pv, err := readPV(v.Reader, v.Size)
		if err != nil {
			v.Err = fmt.Errorf("LVM physical volume: %w", err)
			v.Reason = "This is an LVM physical volume whose metadata could not be read: " + err.Error()
			continue
		}
		v.Reason = fmt.Sprintf("This is an LVM physical volume of volume group %q; its logical volumes are under lvm/%s/ and their files under files/%s-<lv>/.", pv.vname, pv.vname, pv.vname)
		pvs = append(pvs, pv)
	}
	lvs, errs := lvmVolumes(pvs)
	if len(errs) > 0 && l.Err == nil {
		l.Err = errors.Join(errs...)
		l.Reason = "LVM metadata is damaged: " + l.Err.Error()
	}
	for _, v := range lvs {
		if v.Reader != nil {
			v.Type = detect(v.Reader, v.Size)
		}
		l.Volumes = append(l.Volumes, v)
	}
	for i := range l.Volumes {
		describe(&l.Volumes[i])
	}
	return l, ctx.Err()
}

// readTable finds the partition table; it sets l.Table.
func readTable(r io.ReaderAt, size int64, l *Layout) ([]part, error) {
	sec0 := make([]byte, 512)
	if err := readFull(r, sec0, 0); err != nil {
		return nil, nil // smaller than a sector: nothing to find
	}
	for _, ss := range []int64{512, 4096} {
		if hasGPT(r, ss) {
			l.Table = TableGPT
			return parseGPT(r, size, ss)
		}
	}
	if isVBR(sec0, size) || !looksLikeMBR(sec0) {
		return nil, nil
	}
	if protectiveMBR(sec0) { // GPT whose primary header is gone: try the backup
		l.Table = TableGPT
		parts, err := parseGPT(r, size, 512)
		if err != nil {
			if p4, err4 := parseGPT(r, size, 4096); err4 == nil {
				return p4, nil
			}
		}
		return parts, err
	}
	l.Table = TableMBR
	return parseMBR(r, sec0)
}

func partVolume(r io.ReaderAt, size int64, p part) Volume {
	n := strconv.Itoa(p.num)
	v := Volume{Name: n, Path: "partitions/" + n + ".img", Offset: p.start, Size: p.size, PartType: p.ptype, Label: p.label}
	if p.start >= size {
		v.Size = 0
		v.Type = TypeUnknown
		v.Err = corruptf("partition %s starts at %d, past the end of the disk (%d)", n, p.start, size)
		v.Reason = "The partition lies beyond the end of the disk image; the table or the image is damaged."
		v.Reader = newSection(r, 0, 0)
		return v
	}
	if p.start+p.size > size || p.start+p.size < p.start {
		v.Size = size - p.start
		v.Err = corruptf("partition %s ends past the end of the disk; cut to %d bytes", n, v.Size)
	}
	v.Reader = newSection(r, v.Offset, v.Size)
	v.Type = detect(v.Reader, v.Size)
	return v
}

// describe fills FilesDir or Reason from the volume's type.
func describe(v *Volume) {
	switch v.Type {
	case TypeExt2, TypeExt3, TypeExt4, TypeXFS, TypeVFAT, TypeNTFS:
		v.FilesDir = "files/" + v.Name
		return
	}
	if v.Reason != "" {
		return
	}
	switch v.Type {
	case TypeLUKS:
		v.Reason = "This volume is encrypted with LUKS. Its files cannot be shown without the key: restore the image and open it with \"cryptsetup open\"."
	case TypeBitLocker:
		v.Reason = "This volume is encrypted with BitLocker. Its files cannot be shown without the recovery key: restore the image and unlock it in Windows or with dislocker."
	case TypeSwap:
		v.Reason = "This volume is swap space; it holds no files."
	case TypeBtrfs:
		v.Reason = "This volume holds a Btrfs file system, which this version cannot read. Restore the image and mount it."
	case TypeExFAT:
		v.Reason = "This volume holds an exFAT file system, which this version cannot read. Restore the image and mount it."
	default:
		v.Reason = "No file system this version can read (ext2/3/4, XFS, FAT, NTFS) was found on this volume. It may be empty, encrypted, or of another kind; restore the image to inspect it."
	}
}
