package guest

import (
	"encoding/binary"
	"io/fs"
)

func (e *extFS) readDir(dir *Entry) ([]Entry, error) {
	in, err := e.inode(dir.Ino)
	if err != nil {
		return nil, err
	}
	f, err := e.data(in)
	if err != nil {
		return nil, err
	}
	var out []Entry
	var dots dotEntries
	start := int64(0)
	if in.flags()&extFlagInline != 0 {
		start = 4 // parent inode number first
	}
	parse := func(b []byte, off int64) error {
		for p := 0; p+8 <= len(b); {
			ino := binary.LittleEndian.Uint32(b[p:])
			rec := int(binary.LittleEndian.Uint16(b[p+4:]))
			nlen := int(b[p+6])
			if !e.filetype {
				nlen |= int(b[p+7]) << 8
			}
			if rec < 8 || rec%4 != 0 || p+rec > len(b) || 8+nlen > rec {
				return corruptf("ext: directory inode %d: bad entry at %d", dir.Ino, off+int64(p))
			}
			name := string(b[p+8 : p+8+nlen])
			p += rec
			if ino == 0 || dots.skip(name) {
				continue
			}
			if len(out) >= maxDirEntries {
				return corruptf("ext: directory inode %d has more than %d entries", dir.Ino, maxDirEntries)
			}
			child, err := e.inode(uint64(ino))
			if err != nil {
				return err
			}
			ent := e.entry(child, name)
			if ent.Mode&fs.ModeSymlink != 0 {
				ent.Target, _ = e.readLink(&ent)
			}
			out = append(out, ent)
		}
		return nil
	}
	bf, ok := f.(*blockFile)
	if !ok { // inline directory
		b := make([]byte, max(f.Size()-start, 0))
		if err := readFull(f, b, start); err != nil {
			return nil, err
		}
		return out, parse(b, start)
	}
	blk := make([]byte, e.bs)
	err = bf.mapped(maxDirBytes, func(off, n int64) error {
		for end := off + n; off < end; off += e.bs {
			b := blk[:min(e.bs, end-off)]
			if err := readFull(f, b, off); err != nil {
				return err
			}
			if err := parse(b, off); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, nil
}

func (e *extFS) readLink(en *Entry) (string, error) {
	in, err := e.inode(en.Ino)
	if err != nil {
		return "", err
	}
	size := in.size()
	if size <= 0 || size > maxSymlink {
		return "", corruptf("ext: symlink inode %d has length %d", en.Ino, size)
	}
	if in.flags()&(extFlagExtents|extFlagInline) == 0 && size < 60 {
		return string(in.b[0x28 : 0x28+size]), nil // fast symlink
	}
	f, err := e.data(in)
	if err != nil {
		return "", err
	}
	b := make([]byte, size)
	if err := readFull(f, b, 0); err != nil {
		return "", err
	}
	return string(b), nil
}

// inlineXattr returns the value of the in-inode extended attribute
// "system.data", which holds inline data beyond the 60 bytes of i_block.
// After the extra inode fields: magic EA020000, then entries of name_len(1)
// name_index(1) value_offs(2) value_inum(4) value_size(4) hash(4) name,
// padded to 4 bytes, ended by 4 zero bytes; value offsets count from the
// first entry.
func (in *extInode) inlineXattr() ([]byte, error) {
	le := binary.LittleEndian
	if len(in.b) <= 0x84 {
		return nil, corruptf("ext: inode %d: inline data needs large inodes", in.ino)
	}
	start := 0x80 + int(le.Uint16(in.b[0x80:]))
	if start+4 > len(in.b) || le.Uint32(in.b[start:]) != 0xEA020000 {
		return nil, corruptf("ext: inode %d: no in-inode xattrs for inline data", in.ino)
	}
	first := start + 4
	for p := first; p+16 <= len(in.b) && le.Uint32(in.b[p:]) != 0; {
		nl := int(in.b[p])
		if p+16+nl > len(in.b) {
			break
		}
		if in.b[p+1] == 7 && string(in.b[p+16:p+16+nl]) == "data" {
			off, n := first+int(le.Uint16(in.b[p+2:])), int(le.Uint32(in.b[p+8:]))
			if off < first || off+n > len(in.b) || n < 0 {
				return nil, corruptf("ext: inode %d: system.data xattr out of bounds", in.ino)
			}
			return in.b[off : off+n], nil
		}
		p += (16 + nl + 3) &^ 3
	}
	return nil, corruptf("ext: inode %d: system.data xattr missing", in.ino)
}

// dotEntries skips the first "." and ".." of a directory (the real ones);
// a later entry with such a name is kept and shown escaped (escape.go).
type dotEntries struct{ dot, dotdot bool }

func (d *dotEntries) skip(name string) bool {
	switch {
	case name == "." && !d.dot:
		d.dot = true
		return true
	case name == ".." && !d.dotdot:
		d.dotdot = true
		return true
	}
	return false
}
