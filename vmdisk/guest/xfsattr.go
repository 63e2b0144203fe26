package guest

import (
	"encoding/binary"
	"fmt"
)

// XFS extended attributes, from "XFS Algorithms & Data Structures" (3rd
// ed.), chapter "Extended Attributes", and fs/xfs/libxfs/xfs_da_format.h.
// The attribute fork starts di_forkoff*8 bytes into the literal area (after
// the 100- or 176-byte core); di_aformat (byte 83) says how it is kept:
//
//   - local (1), "short form": totsize(2) count(1) pad(1), then entries
//     namelen(1) valuelen(1) flags(1) name value.
//   - extents (2) or btree (3): block 0 of the fork is a leaf (magic at
//     byte 8: 0xFBEE v4, 0x3BEE v5) or a node (0xFEBE / 0x3EBE) whose
//     first pointers lead down to the leftmost leaf; leaves chain through
//     their forw pointer (byte 0). A leaf header is 32 bytes (v4) or 80
//     (v5) with the entry count at 12 / 56; entries are hashval(4)
//     nameidx(2) flags(1) pad(1). At nameidx, a local name is valuelen(2)
//     namelen(1) name value; a remote one valueblk(4) valuelen(4)
//     namelen(1) name, its value in fork blocks from valueblk (on v5 each
//     block starts with a 56-byte "XARM" header).
//
// Flags: 0x01 local, 0x02 root ("trusted."), 0x04 secure ("security."),
// 0x08 parent pointer (not shown), 0x80 incomplete (not shown); none is
// "user.". The root-namespace names SGI_ACL_FILE and SGI_ACL_DEFAULT hold
// ACLs in XFS's own format and are shown as system.posix_acl_* (see
// acl.go), as the kernel does.
const (
	xfsAttrLocal      = 0x01
	xfsAttrRoot       = 0x02
	xfsAttrSecure     = 0x04
	xfsAttrParent     = 0x08
	xfsAttrIncomplete = 0x80

	xfsAttrMaxBlocks = 4096 // leaf and node blocks visited per inode
)

func (x *xfsFS) xattrs(e *Entry) ([]Xattr, error) {
	in, err := x.inode(e.Ino)
	if err != nil {
		return nil, err
	}
	fork, err := in.attrFork()
	if err != nil || fork == nil {
		return nil, err
	}
	var out []Xattr
	add := func(flags byte, name, value []byte) error {
		xa, ok, err := xfsXattr(flags, name, value)
		if ok {
			out = append(out, xa)
		}
		return err
	}
	switch f := in.b[83]; f {
	case 1:
		err = xfsShortAttrs(fork, add)
	case 2, 3:
		err = x.leafAttrs(in, fork, f, add)
	default:
		err = corruptf("attribute fork format %d", f)
	}
	if err != nil {
		return nil, fmt.Errorf("xfs: inode %d attributes: %w", in.ino, err)
	}
	return out, nil
}

// attrFork returns the attribute fork bytes, nil when the inode has none.
func (in *xfsInode) attrFork() ([]byte, error) {
	fo := int(in.b[82])
	if fo == 0 {
		return nil, nil
	}
	start := 100
	if in.version() >= 3 {
		start = 176
	}
	if start+fo*8 >= len(in.b) {
		return nil, corruptf("xfs: inode %d: fork offset %d", in.ino, fo)
	}
	return in.b[start+fo*8:], nil
}

// anextents is the attribute fork's extent count.
func (in *xfsInode) anextents() uint64 {
	if in.flags2()&0x10 != 0 {
		return uint64(binary.BigEndian.Uint32(in.b[76:]))
	}
	return uint64(binary.BigEndian.Uint16(in.b[80:]))
}

// xfsXattr names an attribute; ok is false for kinds not shown.
func xfsXattr(flags byte, name, value []byte) (Xattr, bool, error) {
	if flags&(xfsAttrParent|xfsAttrIncomplete) != 0 {
		return Xattr{}, false, nil
	}
	n := string(name)
	switch {
	case flags&xfsAttrRoot != 0 && (n == "SGI_ACL_FILE" || n == "SGI_ACL_DEFAULT"):
		v, err := xfsACL(value)
		if err != nil {
			return Xattr{}, false, err
		}
		if n == "SGI_ACL_FILE" {
			return Xattr{Name: xattrACLAccess, Value: v}, true, nil
		}
		return Xattr{Name: xattrACLDefault, Value: v}, true, nil
	case flags&xfsAttrRoot != 0:
		n = "trusted." + n
	case flags&xfsAttrSecure != 0:
		n = "security." + n
	default:
		n = "user." + n
	}
	return Xattr{Name: n, Value: append([]byte(nil), value...)}, true, nil
}

// xfsShortAttrs walks a short-form attribute fork.
func xfsShortAttrs(fork []byte, add func(flags byte, name, value []byte) error) error {
	if len(fork) < 4 {
		return corruptf("short attribute header")
	}
	count, p := int(fork[2]), 4
	for i := 0; i < count; i++ {
		if p+3 > len(fork) {
			return corruptf("short-form attribute %d overruns the fork", i)
		}
		nl, vl, fl := int(fork[p]), int(fork[p+1]), fork[p+2]
		if p+3+nl+vl > len(fork) {
			return corruptf("short-form attribute %d overruns the fork", i)
		}
		if err := add(fl, fork[p+3:p+3+nl], fork[p+3+nl:p+3+nl+vl]); err != nil {
			return err
		}
		p += 3 + nl + vl
	}
	return nil
}
