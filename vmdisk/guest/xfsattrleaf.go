package guest

import (
	"encoding/binary"
	"fmt"
)

// Leaf- and node-form XFS attributes (layout in xfsattr.go).

// attrBlocks reads blocks of an attribute fork by logical block number.
type attrBlocks struct {
	x *xfsFS
	f *blockFile
}

func (a attrBlocks) block(lblk uint64) ([]byte, error) {
	b := make([]byte, a.x.bs)
	if lblk > 1<<32 {
		return nil, corruptf("attribute block %d", lblk)
	}
	return b, readFull(a.f, b, int64(lblk)*a.x.bs)
}

func (x *xfsFS) leafAttrs(in *xfsInode, fork []byte, format byte, add func(byte, []byte, []byte) error) error {
	exts, err := x.forkExtents(in, fork, format, in.anextents())
	if err != nil {
		return err
	}
	if len(exts) == 0 {
		return nil // an attribute fork left empty
	}
	var end uint64
	for _, e := range exts {
		end = max(end, e.lblk+e.n)
	}
	a := attrBlocks{x: x, f: &blockFile{r: x.r, bs: x.bs, size: int64(end) * x.bs, exts: exts}}
	lblk, err := a.leftmostLeaf()
	if err != nil {
		return err
	}
	for visited := 0; ; visited++ {
		if visited > xfsAttrMaxBlocks {
			return corruptf("more than %d attribute leaves", xfsAttrMaxBlocks)
		}
		b, err := a.block(lblk)
		if err != nil {
			return err
		}
		if err := a.leaf(b, add); err != nil {
			return fmt.Errorf("leaf block %d: %w", lblk, err)
		}
		forw := uint64(binary.BigEndian.Uint32(b))
		if forw == 0 || forw == lblk {
			return nil
		}
		lblk = forw
	}
}

// leftmostLeaf descends from block 0 through the first pointer of each
// node to the first leaf.
func (a attrBlocks) leftmostLeaf() (uint64, error) {
	lblk := uint64(0)
	for depth := 0; depth < 8; depth++ {
		b, err := a.block(lblk)
		if err != nil {
			return 0, err
		}
		switch m := binary.BigEndian.Uint16(b[8:]); m {
		case 0xFBEE, 0x3BEE:
			return lblk, nil
		case 0xFEBE, 0x3EBE:
			hdr, cnt := 16, 12 // v4: blkinfo(12) count(2) level(2)
			if m == 0x3EBE {
				hdr, cnt = 64, 56 // v5: blkinfo(56) count(2) level(2) pad(4)
			}
			if binary.BigEndian.Uint16(b[cnt:]) == 0 {
				return 0, corruptf("empty attribute node %d", lblk)
			}
			lblk = uint64(binary.BigEndian.Uint32(b[hdr+4:])) // entry 0: hashval, before
		default:
			return 0, corruptf("attribute block %d has magic 0x%04x", lblk, m)
		}
	}
	return 0, corruptf("attribute tree deeper than 8")
}

// leaf walks one leaf block's entries.
func (a attrBlocks) leaf(b []byte, add func(byte, []byte, []byte) error) error {
	be := binary.BigEndian
	hdr, cnt := 32, 12
	switch be.Uint16(b[8:]) {
	case 0x3BEE:
		hdr, cnt = 80, 56
	case 0xFBEE:
	default:
		return corruptf("not a leaf (magic 0x%04x)", be.Uint16(b[8:]))
	}
	n := int(be.Uint16(b[cnt:]))
	if hdr+8*n > len(b) {
		return corruptf("%d entries in a %d-byte block", n, len(b))
	}
	for i := 0; i < n; i++ {
		ent := b[hdr+8*i:]
		idx, fl := int(be.Uint16(ent[4:])), ent[6]
		name, value, err := a.leafEntry(b, idx, fl)
		if err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if err := add(fl, name, value); err != nil {
			return err
		}
	}
	return nil
}

func (a attrBlocks) leafEntry(b []byte, idx int, fl byte) (name, value []byte, err error) {
	be := binary.BigEndian
	if fl&xfsAttrLocal != 0 {
		if idx+3 > len(b) {
			return nil, nil, corruptf("name at %d overruns", idx)
		}
		vl, nl := int(be.Uint16(b[idx:])), int(b[idx+2])
		if idx+3+nl+vl > len(b) {
			return nil, nil, corruptf("name at %d overruns", idx)
		}
		return b[idx+3 : idx+3+nl], b[idx+3+nl : idx+3+nl+vl], nil
	}
	if idx+9 > len(b) {
		return nil, nil, corruptf("remote name at %d overruns", idx)
	}
	blk, vl, nl := uint64(be.Uint32(b[idx:])), int64(be.Uint32(b[idx+4:])), int(b[idx+8])
	if idx+9+nl > len(b) {
		return nil, nil, corruptf("remote name at %d overruns", idx)
	}
	name = b[idx+9 : idx+9+nl]
	if fl&xfsAttrIncomplete != 0 {
		return name, nil, nil
	}
	value, err = a.remote(blk, vl)
	return name, value, err
}

// remote reads a value kept in its own blocks.
func (a attrBlocks) remote(lblk uint64, size int64) ([]byte, error) {
	if size > extXattrMaxSize {
		return nil, corruptf("remote value of %d bytes", size)
	}
	out := make([]byte, 0, size)
	for int64(len(out)) < size {
		b, err := a.block(lblk)
		if err != nil {
			return nil, err
		}
		data := b
		if a.x.v5 {
			if string(b[:4]) != "XARM" {
				return nil, corruptf("remote value block %d has no XARM header", lblk)
			}
			data = b[56:]
		}
		out = append(out, data[:min(int64(len(data)), size-int64(len(out)))]...)
		lblk++
	}
	return out, nil
}
