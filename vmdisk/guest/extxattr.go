package guest

import (
	"encoding/binary"
	"fmt"
)

// ext2/3/4 extended attributes, from the ext4 disk layout document
// (Documentation/filesystems/ext4/attributes.rst). They live after the
// inode's extra fields (i_extra_isize) behind the magic 0xEA020000, and in
// one block named by i_file_acl (0x68, high 16 bits at 0x76) whose 32-byte
// header starts with the same magic and h_blocks = 1. Each entry is
// e_name_len(1) e_name_index(1) e_value_offs(2) e_value_inum(4)
// e_value_size(4) e_hash(4) name, padded to 4 bytes; a zero word ends the
// list. In the inode, value offsets count from the first entry; in the
// block, from the block start. A non-zero e_value_inum (ea_inode) keeps
// the value as the data of that inode.
const (
	extXattrMagic   = 0xEA020000
	extXattrMaxSize = 64 << 10 // the Linux limit on one value
)

// extXattrPrefix maps e_name_index to the name prefix, as the kernel's
// ext4_xattr_handler_map; indexes it does not list (7 "system.data" for
// inline data, 8 richacl, 9 encryption context) are not shown.
var extXattrPrefix = map[byte]string{
	1: "user.", 2: xattrACLAccess, 3: xattrACLDefault, 4: "trusted.", 6: "security.", 10: "gnu.",
}

func (e *extFS) xattrs(en *Entry) ([]Xattr, error) {
	in, err := e.inode(en.Ino)
	if err != nil {
		return nil, err
	}
	var out []Xattr
	le := binary.LittleEndian
	if len(in.b) > 0x84 {
		start := 0x80 + int(le.Uint16(in.b[0x80:]))
		if start+4 <= len(in.b) && le.Uint32(in.b[start:]) == extXattrMagic {
			if out, err = e.xattrEntries(in.b, start+4, start+4, out); err != nil {
				return nil, fmt.Errorf("ext: inode %d in-inode xattrs: %w", in.ino, err)
			}
		}
	}
	blk := uint64(le.Uint32(in.b[0x68:])) | uint64(le.Uint16(in.b[0x76:]))<<32
	if blk == 0 {
		return out, nil
	}
	if blk >= uint64(e.size/e.bs) {
		return nil, corruptf("ext: inode %d: xattr block %d beyond the volume", in.ino, blk)
	}
	b, err := e.cache.read(int64(blk)*e.bs, int(e.bs))
	if err != nil {
		return nil, fmt.Errorf("ext: inode %d xattr block: %w", in.ino, err)
	}
	if le.Uint32(b) != extXattrMagic || le.Uint32(b[8:]) != 1 {
		return nil, corruptf("ext: inode %d: xattr block %d has no header", in.ino, blk)
	}
	if out, err = e.xattrEntries(b, 32, 0, out); err != nil {
		return nil, fmt.Errorf("ext: inode %d xattr block %d: %w", in.ino, blk, err)
	}
	return out, nil
}

// xattrEntries parses the entry list of b starting at p; values are at
// base+e_value_offs.
func (e *extFS) xattrEntries(b []byte, p, base int, out []Xattr) ([]Xattr, error) {
	le := binary.LittleEndian
	for n := 0; p+4 <= len(b) && le.Uint32(b[p:]) != 0; n++ {
		if p+16 > len(b) || n > len(b)/16 {
			return nil, corruptf("entry at %d overruns", p)
		}
		nl, idx := int(b[p]), b[p+1]
		if p+16+nl > len(b) {
			return nil, corruptf("name at %d overruns", p)
		}
		name := string(b[p+16 : p+16+nl])
		voff, inum, vsize := int(le.Uint16(b[p+2:])), le.Uint32(b[p+4:]), int64(le.Uint32(b[p+8:]))
		p += (16 + nl + 3) &^ 3
		prefix, ok := extXattrPrefix[idx]
		if !ok {
			continue
		}
		if vsize > extXattrMaxSize {
			return nil, corruptf("value of %s%s is %d bytes", prefix, name, vsize)
		}
		v, err := e.xattrValue(b, base+voff, inum, vsize)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", prefix, name, err)
		}
		if idx == 2 || idx == 3 {
			if v, err = extACL(v); err != nil {
				return nil, err
			}
			name = ""
		}
		out = append(out, Xattr{Name: prefix + name, Value: v})
	}
	return out, nil
}

func (e *extFS) xattrValue(b []byte, off int, inum uint32, size int64) ([]byte, error) {
	if inum == 0 {
		if off < 0 || int64(off)+size > int64(len(b)) {
			return nil, corruptf("value at %d+%d out of bounds", off, size)
		}
		return append([]byte(nil), b[off:off+int(size)]...), nil
	}
	in, err := e.inode(uint64(inum))
	if err != nil {
		return nil, err
	}
	f, err := e.data(in)
	if err != nil {
		return nil, err
	}
	if f.Size() < size {
		return nil, corruptf("value inode %d holds %d of %d bytes", inum, f.Size(), size)
	}
	v := make([]byte, size)
	return v, readFull(f, v, 0)
}
