package fileshare

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// ErrCorruptObject marks a directory, root or extent-list object that does not
// decode or breaks the format's rules. errors.Is(err, blockstore.ErrCorruption)
// also holds, so callers treat it like any other bad data.
var ErrCorruptObject = fmt.Errorf("fileshare object: %w", blockstore.ErrCorruption)

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCorruptObject, fmt.Sprintf(format, a...))
}

type dec struct {
	b   []byte
	err error
	ver byte // the object's format version, set by header
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = corrupt("truncated or malformed %s", what)
	}
}

func (d *dec) uv(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) u32(what string) uint32 {
	v := d.uv(what)
	if v > 1<<32-1 {
		d.fail(what)
	}
	return uint32(v)
}

func (d *dec) i63(what string) int64 {
	v := d.uv(what)
	if v > 1<<62 {
		d.fail(what)
	}
	return int64(v)
}

func (d *dec) sv(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) byte1(what string) byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail(what)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *dec) raw(what string, max int) []byte {
	n := d.uv(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.b)) {
		d.fail(what)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str(what string, max int) string { return string(d.raw(what, max)) }

func (d *dec) id(what string) blockstore.ID {
	var id blockstore.ID
	if d.err != nil || len(d.b) < len(id) {
		d.fail(what)
		return id
	}
	copy(id[:], d.b)
	d.b = d.b[len(id):]
	return id
}

// count reads an element count and rejects one that could not fit in the
// remaining bytes (each element takes at least minSize bytes).
func (d *dec) count(what string, max, minSize int) int {
	n := d.uv(what)
	if d.err == nil && (n > uint64(max) || n*uint64(minSize) > uint64(len(d.b))) {
		d.fail(what)
		return 0
	}
	return int(n)
}

func (d *dec) header(magic string) {
	if !bytes.HasPrefix(d.b, []byte(magic)) || len(d.b) < len(magic)+1 {
		d.err = corrupt("not a %q object", magic)
		return
	}
	v := d.b[len(magic)]
	if v != formatV1 && v != formatV2 {
		d.err = corrupt("%q object of unknown version %d (newer rewind?)", magic, v)
		return
	}
	d.ver = v
	d.b = d.b[len(magic)+1:]
}

// validName reports whether s can be one path component on restore.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= maxNameLen &&
		!strings.ContainsAny(s, "/\x00")
}

// validLinkPath reports whether p is a relative path of valid components.
func validLinkPath(p string) bool {
	if p == "" || len(p) > maxLinkPathLen {
		return false
	}
	for _, c := range strings.Split(p, "/") {
		if !validName(c) {
			return false
		}
	}
	return true
}

func (d *dec) entry(root bool) *Node {
	n := &Node{}
	n.Name = d.str("name", maxNameLen)
	n.Type = Type(d.byte1("type"))
	n.Mode = d.u32("mode")
	n.Uid = d.u32("uid")
	n.Gid = d.u32("gid")
	n.User = d.str("user", maxUserLen)
	n.Group = d.str("group", maxUserLen)
	n.Size = d.i63("size")
	n.Mtime = d.time("mtime")
	n.Ctime = d.time("ctime")
	n.Atime = d.time("atime")
	n.Nlink = d.u32("nlink")
	n.dev = d.uv("dev")
	n.ino = d.uv("ino")
	n.Rdev = d.uv("rdev")
	n.Target = d.str("symlink target", maxTargetLen)
	n.LinkPath = d.str("link path", maxLinkPathLen)
	d.xattrs(n)
	d.data(n)
	if n.Type == TypeDir {
		n.subtree = d.id("subtree")
	}
	if d.err == nil {
		d.err = checkEntry(n, root, d.ver)
	}
	return n
}

func (d *dec) xattrs(n *Node) {
	c := d.count("xattr count", maxXattrs, 2)
	total := 0
	for i := 0; i < c && d.err == nil; i++ {
		x := Xattr{Name: d.str("xattr name", maxXattrName), Value: d.raw("xattr value", maxXattrValue)}
		total += len(x.Name) + len(x.Value)
		if x.Name == "" || total > maxXattrTotal || (i > 0 && n.Xattrs[i-1].Name >= x.Name) {
			d.err = corrupt("entry %q: bad or unsorted xattr list", n.Name)
		}
		n.Xattrs = append(n.Xattrs, x)
	}
}

func (d *dec) data(n *Node) {
	switch d.byte1("data kind") {
	case dataNone:
	case dataInline:
		n.inline = d.raw("inline data", inlineMax)
	case dataExtents:
		n.extents = d.extents(inlineExtentMax, n.Size)
	case dataLists:
		d.lists(n)
	default:
		d.fail("data kind")
	}
}

func (d *dec) extents(max int, limit int64) []Extent {
	c := d.count("extent count", max, 34)
	xs := make([]Extent, 0, c)
	var end int64
	for i := 0; i < c && d.err == nil; i++ {
		gap := d.i63("extent offset")
		l := d.i63("extent length")
		x := Extent{Off: end + gap, Len: l, ID: d.id("extent id")}
		if l <= 0 || l > blockstore.MaxChunkSize || x.Off+l > limit || x.Off+l < x.Off {
			d.err = corrupt("extent at %d+%d out of bounds (file size %d)", x.Off, l, limit)
		}
		end = x.Off + l
		xs = append(xs, x)
	}
	return xs
}

func (d *dec) lists(n *Node) {
	c := d.count("extent list count", 1<<20, 34)
	var prev int64 = -1
	for i := 0; i < c && d.err == nil; i++ {
		l := listRef{First: d.i63("list offset"), Count: d.u32("list count"), ID: d.id("list id")}
		if l.First <= prev || l.First >= n.Size || l.Count == 0 || l.Count > listMaxExtents {
			d.err = corrupt("entry %q: bad extent list reference", n.Name)
		}
		prev = l.First
		n.lists = append(n.lists, l)
	}
}

// checkEntry applies the rules an entry must satisfy to be restorable.
func checkEntry(n *Node, root bool, ver byte) error {
	switch {
	case root && (n.Name != "" || n.Type != TypeDir):
		return corrupt("root entry must be an unnamed directory")
	case !root && !validName(n.Name):
		return corrupt("entry name %q is not a valid file name", n.Name)
	case n.Type < TypeFile || n.Type > TypeSocket || (n.Type == TypeSocket && ver < formatV2):
		return corrupt("entry %q: unknown type %d", n.Name, n.Type)
	case n.Mode > 0o7777:
		return corrupt("entry %q: mode %o has bits beyond 07777", n.Name, n.Mode)
	case n.Type != TypeSymlink && n.Target != "":
		return corrupt("entry %q: target on a %s", n.Name, n.Type)
	case n.LinkPath != "" && (n.Type != TypeFile || !validLinkPath(n.LinkPath)):
		return corrupt("entry %q: bad hardlink path %q", n.Name, n.LinkPath)
	case n.Type != TypeFile && (n.inline != nil || n.extents != nil || n.lists != nil):
		return corrupt("entry %q: data on a %s", n.Name, n.Type)
	case n.inline != nil && int64(len(n.inline)) != n.Size:
		return corrupt("entry %q: inline data of %d bytes for size %d", n.Name, len(n.inline), n.Size)
	}
	return nil
}

func decodeRoot(b []byte) (*Node, error) {
	d := dec{b: b}
	d.header(magicRoot)
	n := d.entry(true)
	if d.err == nil && len(d.b) != 0 {
		d.err = corrupt("trailing bytes after root entry")
	}
	return n, d.err
}

// dirObject is a decoded directory object: a leaf page or an index.
type dirObject struct {
	entries []*Node   // leaf
	pages   []pageRef // index
}

func decodeDir(b []byte) (*dirObject, error) {
	d := dec{b: b}
	d.header(magicDir)
	o := &dirObject{}
	switch k := d.byte1("page kind"); {
	case d.err != nil:
	case k == pageLeaf:
		o.entries = d.leaf()
	case k == pageIndex:
		o.pages = d.index()
	default:
		d.err = corrupt("unknown directory page kind %q", k)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = corrupt("trailing bytes after directory object")
	}
	return o, d.err
}

func (d *dec) leaf() []*Node {
	c := d.count("entry count", pageMaxEntries, 20)
	out := make([]*Node, 0, c)
	for i := 0; i < c && d.err == nil; i++ {
		n := d.entry(false)
		if d.err == nil && i > 0 && out[i-1].Name >= n.Name {
			d.err = corrupt("directory entries not strictly sorted at %q", n.Name)
		}
		out = append(out, n)
	}
	return out
}

func (d *dec) index() []pageRef {
	c := d.count("page count", maxIndexPages, 35)
	out := make([]pageRef, 0, c)
	for i := 0; i < c && d.err == nil; i++ {
		p := pageRef{First: d.str("page first name", maxNameLen), Count: d.u32("page count"), ID: d.id("page id")}
		if d.err == nil && (!validName(p.First) || p.Count == 0 || p.Count > pageMaxEntries ||
			(i > 0 && out[i-1].First >= p.First)) {
			d.err = corrupt("bad directory index reference %q", p.First)
		}
		out = append(out, p)
	}
	return out
}

func decodeExtentList(b []byte, size int64) ([]Extent, error) {
	d := dec{b: b}
	d.header(magicList)
	xs := d.extents(listMaxExtents, size)
	if d.err == nil && len(d.b) != 0 {
		d.err = corrupt("trailing bytes after extent list")
	}
	return xs, d.err
}

// time reads a time stamp: v1 int64 nanoseconds, v2 seconds + nanoseconds.
func (d *dec) time(what string) time.Time {
	if d.ver == formatV1 {
		return time.Unix(0, d.sv(what))
	}
	sec := d.sv(what)
	ns := d.uv(what)
	if ns >= 1e9 || sec < minTimeSec || sec > maxTimeSec {
		d.fail(what)
		return time.Time{}
	}
	return time.Unix(sec, int64(ns))
}

// The times the decoder accepts: year 1 (time.Time's zero) to about year
// 292,277,026,596 minus a margin, so time arithmetic cannot overflow.
const (
	minTimeSec = -62135596800
	maxTimeSec = 1 << 62
)
