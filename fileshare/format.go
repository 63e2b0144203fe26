package fileshare

import (
	"encoding/binary"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// Object layouts (all integers are unsigned LEB128 varints unless noted;
// "str" is varint length + bytes). See FORMAT.md.
//
//	root object   "RWFR" ver(1) entry                       the tree's top directory, Name ""
//	leaf page     "RWFD" ver(1) 'L' n entry*n               entries sorted by name, strictly
//	index         "RWFD" ver(1) 'I' n (first str, count, id[32])*n   pages of a big directory
//	extent list   "RWFX" ver(1) n (off, len, id[32])*n      off is delta from previous end
//
//	entry: name str, type byte, mode, uid, gid, user str, group str, size,
//	       v2: mtime, ctime, atime each as (seconds since 1970 zigzag, nanoseconds 0..999999999)
//	       v1: mtime zigzag, ctime zigzag, atime zigzag (ns since 1970: 1677..2262 only)
//	       nlink, dev, ino, rdev,
//	       target str, linkpath str, nxattr (name str, value str)*,
//	       data byte (0 none | 1 inline str | 2 extents n (off,len,id)* | 3 lists n (first,count,id)*),
//	       [type dir: subtree id[32]]
const (
	// formatVersion is written into every new object; the decoder reads
	// formatV1 (blockstore.FormatInitial) and formatV2 (blockstore.FormatShareTimes).
	formatVersion = formatV2
	formatV1      = 1 // times as int64 ns; no sockets
	formatV2      = 2 // times as seconds + nanoseconds at any date; sockets (type 7)
	magicRoot     = "RWFR"
	magicDir      = "RWFD"
	magicList     = "RWFX"

	pageLeaf  = 'L'
	pageIndex = 'I'

	dataNone    = 0
	dataInline  = 1
	dataExtents = 2
	dataLists   = 3
)

// Bounds the decoder enforces on untrusted directory objects and the encoder
// respects when capturing.
const (
	maxNameLen      = 255
	maxTargetLen    = 4096
	maxLinkPathLen  = 64 << 10
	maxXattrs       = 4096
	maxXattrName    = 255
	maxXattrValue   = 64 << 10
	maxXattrTotal   = 1 << 20
	maxUserLen      = 256
	pageMaxEntries  = 1024    // entries per leaf page
	pageMaxBytes    = 1 << 20 // a leaf page is sealed once it grows past this
	maxIndexPages   = 32768   // pages per directory (32M entries)
	inlineMax       = 1024    // files up to this size live inside their entry
	inlineExtentMax = 256     // more extents than this go to extent lists
	listMaxExtents  = 16384   // extents per extent-list object
)

type enc struct{ b []byte }

func (e *enc) uv(v uint64)         { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) sv(v int64)          { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) byte1(v byte)        { e.b = append(e.b, v) }
func (e *enc) str(s string)        { e.uv(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bytes(s []byte)      { e.uv(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) id(id blockstore.ID) { e.b = append(e.b, id[:]...) }

// time writes t as seconds since 1970 and nanoseconds: any date a file
// system can hold (the zero time.Time stays zero).
func (e *enc) time(t time.Time) {
	e.sv(t.Unix())
	e.uv(uint64(t.Nanosecond()))
}

// ownerName is name as recorded: "" (unknown) when longer than the
// decoder accepts, so one odd NSS name cannot make a directory unreadable.
func ownerName(name string) string {
	if len(name) > maxUserLen {
		return ""
	}
	return name
}

func (e *enc) entry(n *Node) {
	e.str(n.Name)
	e.byte1(byte(n.Type))
	e.uv(uint64(n.Mode))
	e.uv(uint64(n.Uid))
	e.uv(uint64(n.Gid))
	e.str(ownerName(n.User))
	e.str(ownerName(n.Group))
	e.uv(uint64(n.Size))
	e.time(n.Mtime)
	e.time(n.Ctime)
	e.time(n.Atime)
	e.uv(uint64(n.Nlink))
	e.uv(n.dev)
	e.uv(n.ino)
	e.uv(n.Rdev)
	e.str(n.Target)
	e.str(n.LinkPath)
	e.uv(uint64(len(n.Xattrs)))
	for _, x := range n.Xattrs {
		e.str(x.Name)
		e.bytes(x.Value)
	}
	e.data(n)
	if n.Type == TypeDir {
		e.id(n.subtree)
	}
}

func (e *enc) data(n *Node) {
	switch {
	case len(n.lists) > 0:
		e.byte1(dataLists)
		e.uv(uint64(len(n.lists)))
		for _, l := range n.lists {
			e.uv(uint64(l.First))
			e.uv(uint64(l.Count))
			e.id(l.ID)
		}
	case len(n.extents) > 0:
		e.byte1(dataExtents)
		e.extents(n.extents)
	case n.inline != nil:
		e.byte1(dataInline)
		e.bytes(n.inline)
	default:
		e.byte1(dataNone)
	}
}

func (e *enc) extents(xs []Extent) {
	e.uv(uint64(len(xs)))
	var end int64
	for _, x := range xs {
		e.uv(uint64(x.Off - end))
		e.uv(uint64(x.Len))
		e.id(x.ID)
		end = x.Off + x.Len
	}
}

func encodeRoot(n *Node) []byte {
	e := enc{b: []byte(magicRoot)}
	e.byte1(formatVersion)
	e.entry(n)
	return e.b
}

func encodeExtentList(xs []Extent) []byte {
	e := enc{b: []byte(magicList)}
	e.byte1(formatVersion)
	e.extents(xs)
	return e.b
}

// pageRef describes one leaf page of a paged directory.
type pageRef struct {
	First string
	Count uint32
	ID    blockstore.ID
}

func encodeIndex(refs []pageRef) []byte {
	e := enc{b: []byte(magicDir)}
	e.byte1(formatVersion)
	e.byte1(pageIndex)
	e.uv(uint64(len(refs)))
	for _, r := range refs {
		e.str(r.First)
		e.uv(uint64(r.Count))
		e.id(r.ID)
	}
	return e.b
}

// leafHeader starts a leaf page; entries are appended and the count patched
// in by finishLeaf.
func encodeLeaf(entries []*Node) []byte {
	e := enc{b: []byte(magicDir)}
	e.byte1(formatVersion)
	e.byte1(pageLeaf)
	e.uv(uint64(len(entries)))
	for _, n := range entries {
		e.entry(n)
	}
	return e.b
}
