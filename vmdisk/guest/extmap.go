package guest

import "encoding/binary"

// extentTree walks an extent tree node. Header: magic F30A, entries, max,
// depth; then 12-byte entries — leaf: block, len, start_hi(16), start_lo;
// index: block, leaf_lo, leaf_hi(16).
func (e *extFS) extentTree(node []byte, level int, count *int) ([]extent, error) {
	le := binary.LittleEndian
	if len(node) < 12 || le.Uint16(node) != 0xF30A {
		return nil, corruptf("bad extent header")
	}
	n := int(le.Uint16(node[2:]))
	depth := int(le.Uint16(node[6:]))
	if 12+12*n > len(node) || depth > 5 || level > 5 {
		return nil, corruptf("extent node with %d entries at depth %d", n, depth)
	}
	var out []extent
	for i := 0; i < n; i++ {
		ent := node[12+12*i:]
		if depth == 0 {
			if *count++; *count > maxExtents {
				return nil, corruptf("more than %d extents", maxExtents)
			}
			l := uint64(le.Uint16(ent[4:]))
			x := extent{lblk: uint64(le.Uint32(ent)), pblk: uint64(le.Uint16(ent[6:]))<<32 | uint64(le.Uint32(ent[8:]))}
			if l > 32768 {
				l -= 32768
				x.unwritten = true
			}
			x.n = l
			out = append(out, x)
			continue
		}
		if *count += 16; *count > maxExtents { // index blocks count 16 toward the cap
			return nil, corruptf("extent tree too large")
		}
		child := uint64(le.Uint16(ent[8:]))<<32 | uint64(le.Uint32(ent[4:]))
		blk, err := readAt(e.r, int(e.bs), int64(child)*e.bs)
		if err != nil {
			return nil, err
		}
		sub, err := e.extentTree(blk, level+1, count)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

// indirectMap reads the ext2/3 block map: 12 direct pointers, then single,
// double and triple indirect blocks. Only blocks below the file size count.
func (e *extFS) indirectMap(in *extInode, size int64) ([]extent, error) {
	nblk := uint64((size + e.bs - 1) / e.bs)
	var exts []extent
	add := func(l, p uint64) error {
		if p == 0 {
			return nil
		}
		if k := len(exts) - 1; k >= 0 && exts[k].lblk+exts[k].n == l && exts[k].pblk+exts[k].n == p {
			exts[k].n++
			return nil
		}
		if len(exts) >= maxExtents {
			return corruptf("more than %d extents", maxExtents)
		}
		exts = append(exts, extent{lblk: l, pblk: p, n: 1})
		return nil
	}
	ptr := func(i int) uint64 { return uint64(binary.LittleEndian.Uint32(in.b[0x28+4*i:])) }
	l := uint64(0)
	for i := 0; i < 12 && l < nblk; i, l = i+1, l+1 {
		if err := add(l, ptr(i)); err != nil {
			return nil, err
		}
	}
	per := uint64(e.bs / 4)
	var walk func(blk uint64, depth int) error
	walk = func(blk uint64, depth int) error {
		if blk == 0 { // a hole covering per^(depth+1) blocks
			span := uint64(1)
			for d := 0; d <= depth; d++ {
				span *= per
			}
			l += span
			return nil
		}
		b, err := readAt(e.r, int(e.bs), int64(blk)*e.bs)
		if err != nil {
			return err
		}
		for j := uint64(0); j < per && l < nblk; j++ {
			p := uint64(binary.LittleEndian.Uint32(b[4*j:]))
			if depth == 0 {
				if err := add(l, p); err != nil {
					return err
				}
				l++
				continue
			}
			if err := walk(p, depth-1); err != nil {
				return err
			}
		}
		return nil
	}
	for d := 0; d < 3 && l < nblk; d++ {
		if err := walk(ptr(12+d), d); err != nil {
			return nil, err
		}
	}
	return exts, nil
}
