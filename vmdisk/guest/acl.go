package guest

import (
	"encoding/binary"
)

// POSIX ACLs are shown in the format Linux uses for the system.posix_acl_access
// and system.posix_acl_default xattrs (include/uapi/linux/posix_acl_xattr.h):
// a little-endian u32 version 2, then entries of tag u16, perm u16, id u32,
// where id is 0xFFFFFFFF (ACL_UNDEFINED_ID) except for ACL_USER and
// ACL_GROUP entries.
const (
	xattrACLAccess  = "system.posix_acl_access"
	xattrACLDefault = "system.posix_acl_default"

	aclXattrVersion = 2
	aclUndefinedID  = 0xFFFFFFFF
	aclMaxEntries   = 4096

	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
)

type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// aclXattr encodes entries in the Linux xattr format.
func aclXattr(ents []aclEntry) []byte {
	b := make([]byte, 4, 4+8*len(ents))
	binary.LittleEndian.PutUint32(b, aclXattrVersion)
	for _, e := range ents {
		id := e.id
		if e.tag != aclUser && e.tag != aclGroup {
			id = aclUndefinedID
		}
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, id)
	}
	return b
}

func validACLTag(tag uint16) bool {
	switch tag {
	case aclUserObj, aclUser, aclGroupObj, aclGroup, aclMask, aclOther:
		return true
	}
	return false
}

// extACL converts ext4's on-disk ACL (fs/ext4/acl.h): a little-endian u32
// version 1, then per entry tag u16 and perm u16, followed by id u32 only
// for ACL_USER and ACL_GROUP (the other tags use the 4-byte short form).
func extACL(b []byte) ([]byte, error) {
	le := binary.LittleEndian
	if len(b) < 4 || le.Uint32(b) != 1 {
		return nil, corruptf("ext: ACL without version 1 header")
	}
	var ents []aclEntry
	for p := 4; p < len(b); {
		if p+4 > len(b) || len(ents) >= aclMaxEntries {
			return nil, corruptf("ext: ACL entry at %d overruns the value", p)
		}
		e := aclEntry{tag: le.Uint16(b[p:]), perm: le.Uint16(b[p+2:])}
		if !validACLTag(e.tag) {
			return nil, corruptf("ext: ACL tag 0x%x", e.tag)
		}
		p += 4
		if e.tag == aclUser || e.tag == aclGroup {
			if p+4 > len(b) {
				return nil, corruptf("ext: ACL entry without its id")
			}
			e.id = le.Uint32(b[p:])
			p += 4
		}
		ents = append(ents, e)
	}
	return aclXattr(ents), nil
}

// xfsACL converts XFS's on-disk ACL (fs/xfs/libxfs/xfs_format.h, struct
// xfs_acl): a big-endian u32 count, then entries of tag u32, id u32, perm
// u16, pad u16.
func xfsACL(b []byte) ([]byte, error) {
	be := binary.BigEndian
	if len(b) < 4 {
		return nil, corruptf("xfs: short ACL")
	}
	n := be.Uint32(b)
	if n > aclMaxEntries || 4+12*int(n) > len(b) {
		return nil, corruptf("xfs: ACL of %d entries in %d bytes", n, len(b))
	}
	ents := make([]aclEntry, n)
	for i := range ents {
		p := 4 + 12*i
		tag := be.Uint32(b[p:])
		if tag > 0xFFFF || !validACLTag(uint16(tag)) {
			return nil, corruptf("xfs: ACL tag 0x%x", tag)
		}
		ents[i] = aclEntry{tag: uint16(tag), id: be.Uint32(b[p+4:]), perm: be.Uint16(b[p+8:])}
	}
	return aclXattr(ents), nil
}
