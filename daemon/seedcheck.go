package daemon

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/seed"
	"github.com/rewind-backup/rewind/vault"
)

// checkSeedDisk compares an existing disk item's source with the seed where
// this host can tell without side effects: the size of a local raw file or
// a local qcow2 image (its header) must equal the seed's. It returns
// warnings (a bitmap the next backup cannot use) or a refusal.
func checkSeedDisk(it vault.Item, m seed.Manifest) ([]string, error) {
	if size, ok := localDiskSize(it.Source.Spec); ok && size != m.SourceBytes {
		return nil, Errf(CodeInvalid, "item %s's disk %s is %d bytes but the seed's disk (%s) was %d: it is not the same disk; import under another item name", it.Name, it.Source.Spec, size, m.Source, m.SourceBytes)
	}
	if m.Bitmap != "" && it.Source.Bitmap != m.Bitmap {
		return []string{"the seed planted dirty bitmap \"" + m.Bitmap + "\" but item " + it.Name + " tracks \"" + it.Source.Bitmap + "\": the next backup compares block hashes (it reads the whole disk)"}, nil
	}
	return nil, nil
}

// localDiskSize reads the size of a regular raw file or of a qcow2 image's
// header (virtual size: big-endian u64 at byte 24 after the "QFI\xfb"
// magic); ok is false for anything else (NBD, devices, unreadable files).
func localDiskSize(spec string) (int64, bool) {
	path, qcow2 := strings.CutPrefix(spec, "qcow2:")
	if !filepath.IsAbs(path) {
		return 0, false
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	if !qcow2 {
		return fi.Size(), true
	}
	var hdr [32]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != "QFI\xfb" {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(hdr[24:])), true
}
