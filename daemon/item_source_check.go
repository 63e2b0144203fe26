package daemon

import (
	"bytes"
	"io"
	"os"
	"strings"
)

// checkDiskSource refuses at "item add" a local disk source the first
// backup could not read: a directory or other non-file given as a disk, or
// a qcow2:PATH that does not start with the qcow2 magic. (The backing
// chain is checked before every backup, when it is read for real.)
func checkDiskSource(spec string) error {
	path, ok := localDiskPath(spec)
	if !ok {
		return nil // NBD: the server answers at backup time
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil // itemSource already named the missing path
	}
	if m := st.Mode(); !m.IsRegular() && (m&os.ModeDevice == 0 || m&os.ModeCharDevice != 0) {
		return Errf(CodeInvalid, "disk %q is neither a file nor a block device: give a disk image or device (a directory is a share: --share DIR)", spec)
	}
	if !strings.HasPrefix(spec, "qcow2:") {
		return nil
	}
	if !hasQcow2Magic(path) {
		return Errf(CodeInvalid, "disk %q is not a qcow2 image (it does not start with the qcow2 magic QFI\\xfb): give a raw image or device without the qcow2: prefix", spec)
	}
	return nil
}

// qcow2Magic is the first 4 bytes of every qcow2 image: "QFI" 0xfb.
var qcow2Magic = []byte{'Q', 'F', 'I', 0xfb}

func hasQcow2Magic(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(qcow2Magic))
	_, err = io.ReadFull(f, b)
	return err == nil && bytes.Equal(b, qcow2Magic)
}
