package vmdisk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The qcow2 header, as QEMU's docs/interop/qcow2.txt lays it out. All
// integers are big endian. rewind reads only what names other files:
//
//	offset  size  field
//	0       4     magic "QFI\xfb"
//	4       4     version (2 or 3)
//	8       8     backing_file_offset (0 = no backing file)
//	16      4     backing_file_size (bytes, no NUL; QEMU allows at most 1023)
//	20      4     cluster_bits (9..21)
//	72      8     incompatible_features (v3; bit 2 = external data file)
//	88      8     autoclear_features (v3; bit 1 = the data file is raw)
//	100     4     header_length (v3; v2 headers are 72 bytes)
//
// Header extensions follow the header, each {type u32, length u32, data
// padded to 8 bytes}, ending with type 0; all of them lie in the first cluster.
const (
	qcowMagic          = "QFI\xfb"
	qcowV2HeaderLen    = 72
	qcowV3MinHeaderLen = 104
	qcowMaxBackingName = 1023
	qcowMinClusterBits = 9
	qcowMaxClusterBits = 21

	qcowExtEnd         = 0x00000000
	qcowExtBackingFmt  = 0xe2792aca
	qcowExtDataFile    = 0x44415441
	qcowIncompatData   = 1 << 2 // incompatible_features: external data file
	qcowAutoclearRawDF = 1 << 1 // autoclear_features: data file is raw
)

// qcowHeader is what a qcow2 header says about the files it depends on.
type qcowHeader struct {
	Version       uint32
	Backing       string // backing file name as stored, "" for none
	BackingFormat string // from the backing-format extension, "" when absent
	DataFile      bool   // incompatible bit: the guest data lives in another file
	DataFileName  string // from the data-file extension, "" when absent
}

// errNotQcow2 marks a file that does not start with the qcow2 magic.
var errNotQcow2 = errors.New("not a qcow2 image (no QFI\\xfb magic)")

// parseQcow2Header reads the header of the qcow2 image in r. Every offset
// and length comes from the file, so each is bounded before it is used: the
// first cluster (at most 2 MiB) is all that is read. It never panics.
func parseQcow2Header(r io.ReaderAt) (*qcowHeader, error) {
	var fixed [qcowV3MinHeaderLen]byte
	n, err := r.ReadAt(fixed[:], 0)
	if n < 4 || string(fixed[:4]) != qcowMagic {
		if err != nil && n < 4 && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, errNotQcow2
	}
	if n < qcowV2HeaderLen {
		return nil, fmt.Errorf("qcow2 header truncated at %d bytes", n)
	}
	h := &qcowHeader{Version: qbe32(fixed[4:])}
	clusterBits := qbe32(fixed[20:])
	if clusterBits < qcowMinClusterBits || clusterBits > qcowMaxClusterBits {
		return nil, fmt.Errorf("qcow2 cluster_bits %d outside %d..%d", clusterBits, qcowMinClusterBits, qcowMaxClusterBits)
	}
	cluster := int64(1) << clusterBits
	hdrLen, err := headerLength(h.Version, fixed[:n])
	if err != nil {
		return nil, err
	}
	if hdrLen > cluster {
		return nil, fmt.Errorf("qcow2 header_length %d larger than the cluster (%d)", hdrLen, cluster)
	}
	if h.Version == 3 {
		h.DataFile = qbe64(fixed[72:])&qcowIncompatData != 0
	}
	if err := h.readBacking(r, qbe64(fixed[8:]), qbe32(fixed[16:]), cluster); err != nil {
		return nil, err
	}
	if err := h.readExtensions(r, hdrLen, cluster); err != nil {
		return nil, err
	}
	return h, nil
}

// headerLength is where the header extensions start.
func headerLength(version uint32, fixed []byte) (int64, error) {
	switch version {
	case 2:
		return qcowV2HeaderLen, nil
	case 3:
		if len(fixed) < qcowV3MinHeaderLen {
			return 0, fmt.Errorf("qcow2 v3 header truncated at %d bytes", len(fixed))
		}
		l := int64(qbe32(fixed[100:]))
		if l < qcowV3MinHeaderLen || l%8 != 0 {
			return 0, fmt.Errorf("qcow2 header_length %d: not a multiple of 8 of at least %d", l, qcowV3MinHeaderLen)
		}
		return l, nil
	}
	return 0, fmt.Errorf("qcow2 version %d: only versions 2 and 3 exist", version)
}

// readBacking reads the backing file name stored at off (size bytes).
func (h *qcowHeader) readBacking(r io.ReaderAt, off uint64, size uint32, cluster int64) error {
	if off == 0 {
		if size != 0 {
			return fmt.Errorf("qcow2 backing_file_size %d with no backing_file_offset", size)
		}
		return nil
	}
	if size == 0 || size > qcowMaxBackingName {
		return fmt.Errorf("qcow2 backing_file_size %d outside 1..%d", size, qcowMaxBackingName)
	}
	if off > uint64(cluster) || off+uint64(size) > uint64(cluster) {
		return fmt.Errorf("qcow2 backing file name at %d+%d lies outside the first cluster (%d bytes)", off, size, cluster)
	}
	name, err := readExact(r, int64(off), int(size))
	if err != nil {
		return fmt.Errorf("qcow2 backing file name: %w", err)
	}
	h.Backing = string(name)
	return nil
}

// readExtensions walks the header extensions from off to the end marker,
// staying inside the first cluster.
func (h *qcowHeader) readExtensions(r io.ReaderAt, off, cluster int64) error {
	for off+8 <= cluster {
		head, err := readExact(r, off, 8)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil // a header-only image ends before the end marker
			}
			return fmt.Errorf("qcow2 header extension at %d: %w", off, err)
		}
		typ, length := qbe32(head), int64(qbe32(head[4:]))
		if typ == qcowExtEnd {
			return nil
		}
		off += 8
		if length > cluster-off {
			return fmt.Errorf("qcow2 header extension %#x at %d: length %d runs past the first cluster", typ, off-8, length)
		}
		if err := h.extension(r, typ, off, length); err != nil {
			return err
		}
		off += (length + 7) &^ 7
	}
	return nil
}

// extension records the extensions that name files.
func (h *qcowHeader) extension(r io.ReaderAt, typ uint32, off, length int64) error {
	if typ != qcowExtBackingFmt && typ != qcowExtDataFile {
		return nil
	}
	if length > qcowMaxBackingName {
		return fmt.Errorf("qcow2 header extension %#x: %d bytes is too long for a name", typ, length)
	}
	b, err := readExact(r, off, int(length))
	if err != nil {
		return fmt.Errorf("qcow2 header extension %#x: %w", typ, err)
	}
	if typ == qcowExtBackingFmt {
		h.BackingFormat = string(b)
	} else {
		h.DataFileName = string(b)
	}
	return nil
}

func readExact(r io.ReaderAt, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if got == n {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

func qbe32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
func qbe64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
