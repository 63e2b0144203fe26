package guest

import (
	"encoding/binary"
	"fmt"
	"io/fs"
)

func (x *xfsFS) readDir(dir *Entry) ([]Entry, error) {
	in, err := x.inode(dir.Ino)
	if err != nil {
		return nil, err
	}
	var names []string
	var inos []uint64
	add := func(name string, ino uint64) error {
		if len(names) >= maxDirEntries {
			return corruptf("xfs: directory %d has too many entries", dir.Ino)
		}
		names, inos = append(names, name), append(inos, ino)
		return nil
	}
	if in.format() == 1 {
		err = x.shortformDir(in, add)
	} else {
		err = x.blockDir(in, add)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(names))
	for i, name := range names {
		child, err := x.inode(inos[i])
		if err != nil {
			return out, err
		}
		e := x.entry(child, name)
		if e.Mode&fs.ModeSymlink != 0 {
			e.Target, _ = x.readLinkInode(child)
		}
		out = append(out, e)
	}
	return out, nil
}

// shortformDir parses an inline directory: count, i8count, parent (4 or 8
// bytes), then entries: namelen, offset(2), name, [ftype], inumber (4/8).
func (x *xfsFS) shortformDir(in *xfsInode, add func(string, uint64) error) error {
	fork, err := in.dataFork()
	if err != nil {
		return err
	}
	if len(fork) < 6 {
		return corruptf("xfs: short directory")
	}
	count, i8 := int(fork[0]), fork[1] != 0 // i8count>0: all inode numbers are 8 bytes
	isz := 4
	if i8 {
		isz = 8
	}
	p := 2 + isz
	for i := 0; i < count; i++ {
		if p+3 > len(fork) {
			return corruptf("xfs: inode %d: short-form directory overruns its fork", in.ino)
		}
		nl := int(fork[p])
		q := p + 3 + nl
		if x.ftype {
			q++
		}
		if nl == 0 || q+isz > len(fork) {
			return corruptf("xfs: inode %d: short-form entry %d", in.ino, i)
		}
		name := string(fork[p+3 : p+3+nl])
		var ino uint64
		if i8 {
			ino = binary.BigEndian.Uint64(fork[q:])
		} else {
			ino = uint64(binary.BigEndian.Uint32(fork[q:]))
		}
		if err := add(name, ino); err != nil {
			return err
		}
		p = q + isz
	}
	return nil
}

// blockDir reads every data block of a block, leaf or node directory: the
// blocks below the 32 GiB leaf offset whose magic is XD2B/XDB3 (single block,
// with a leaf tail) or XD2D/XDD3 (data block).
func (x *xfsFS) blockDir(in *xfsInode, add func(string, uint64) error) error {
	f, err := x.file(in)
	if err != nil {
		return err
	}
	f.size = min(f.size, xfsLeafOffset)
	buf := make([]byte, x.dirBlk)
	var dots dotEntries // the first "." and ".." of the directory are the real ones
	return f.mapped(maxDirBytes, func(off, n int64) error {
		// directory blocks may span extents; read whole blocks from the
		// first block boundary inside this piece
		end := off + n
		off = (off + x.dirBlk - 1) / x.dirBlk * x.dirBlk
		for ; off < end && off+x.dirBlk <= f.size; off += x.dirBlk {
			if err := readFull(f, buf, off); err != nil {
				return err
			}
			if err := x.dirBlock(in, buf, &dots, add); err != nil {
				return err
			}
		}
		return nil
	})
}

// dirBlock parses one directory data block.
func (x *xfsFS) dirBlock(in *xfsInode, buf []byte, dots *dotEntries, add func(string, uint64) error) error {
	hdr, limit := 16, len(buf)
	switch string(buf[:4]) {
	case "XD2B", "XDB3":
		count := int(binary.BigEndian.Uint32(buf[len(buf)-8:]))
		limit = len(buf) - 8 - 8*count
		if limit < 0 {
			return corruptf("xfs: directory %d: leaf count %d", in.ino, count)
		}
	case "XD2D", "XDD3":
	default:
		return nil // a block of another kind
	}
	if buf[3] == '3' {
		hdr = 64
	}
	if err := x.dataEntries(buf[:limit], hdr, dots, add); err != nil {
		return fmt.Errorf("xfs: directory %d: %w", in.ino, err)
	}
	return nil
}

// dataEntries walks data entries: unused (FFFF, length) or inumber(8),
// namelen, name, [ftype], padding to 8, tag(2).
func (x *xfsFS) dataEntries(b []byte, p int, dots *dotEntries, add func(string, uint64) error) error {
	for p+8 <= len(b) {
		if binary.BigEndian.Uint16(b[p:]) == 0xFFFF {
			l := int(binary.BigEndian.Uint16(b[p+2:]))
			if l < 8 || l%8 != 0 {
				return corruptf("free entry of %d bytes", l)
			}
			p += l
			continue
		}
		ino := binary.BigEndian.Uint64(b[p:])
		nl := int(b[p+8])
		size := 8 + 1 + nl + 2
		if x.ftype {
			size++
		}
		size = (size + 7) &^ 7
		if nl == 0 || p+size > len(b) {
			return corruptf("entry at %d overruns the block", p)
		}
		name := string(b[p+9 : p+9+nl])
		if !dots.skip(name) {
			if err := add(name, ino); err != nil {
				return err
			}
		}
		p += size
	}
	return nil
}

func (x *xfsFS) readLink(e *Entry) (string, error) {
	in, err := x.inode(e.Ino)
	if err != nil {
		return "", err
	}
	return x.readLinkInode(in)
}

// readLinkInode reads an inline symlink, or remote symlink blocks (on v5
// each block starts with a 56-byte "XSLM" header).
func (x *xfsFS) readLinkInode(in *xfsInode) (string, error) {
	size := in.size()
	if size <= 0 || size > maxSymlink {
		return "", corruptf("xfs: symlink %d has length %d", in.ino, size)
	}
	if in.format() == 1 {
		fork, err := in.dataFork()
		if err != nil {
			return "", err
		}
		if int64(len(fork)) < size {
			return "", corruptf("xfs: symlink %d longer than its fork", in.ino)
		}
		return string(fork[:size]), nil
	}
	f, err := x.file(in)
	if err != nil {
		return "", err
	}
	if !x.v5 {
		b := make([]byte, size)
		return string(b), readFull(f, b, 0)
	}
	var out []byte
	f.size = int64(len(f.exts)+1) * x.bs * 2 // read whole blocks
	blk := make([]byte, x.bs)
	for off := int64(0); int64(len(out)) < size && off < 4*x.bs; off += x.bs {
		if err := readFull(f, blk, off); err != nil {
			return "", err
		}
		if string(blk[:4]) != "XSLM" {
			return "", corruptf("xfs: symlink %d: bad block header", in.ino)
		}
		n := int64(binary.BigEndian.Uint32(blk[8:]))
		if n > x.bs-56 {
			return "", corruptf("xfs: symlink %d: block holds %d bytes", in.ino, n)
		}
		out = append(out, blk[56:56+n]...)
	}
	if int64(len(out)) < size {
		return "", corruptf("xfs: symlink %d is short", in.ino)
	}
	return string(out[:size]), nil
}
