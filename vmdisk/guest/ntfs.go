package guest

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	ntfs "www.velocidex.com/golang/go-ntfs/parser"
)

// NTFS through www.velocidex.com/golang/go-ntfs. The library parses the boot
// sector, MFT, attributes, index records and runlists; this file adds what
// it lacks for a mount: guarded calls (recover + deadline, see guard), a lock
// around the library (its context is not documented as concurrency-safe),
// MFT record numbers as inode numbers, hiding of the metafiles (records
// 0–15), DOS 8.3 duplicate names dropped, and symlinks/junctions decoded from
// $REPARSE_POINT ourselves.
type ntfsFS struct {
	mu  sync.Mutex
	ctx *ntfs.NTFSContext
}

const (
	ntfsRootRecord     = 5
	ntfsFirstUser      = 16
	attrReparsePoint   = 0xC0
	reparseTagSymlink  = 0xA000000C
	reparseTagJunction = 0xA0000003
)

func openNTFS(ctx context.Context, r io.ReaderAt, size int64) (backend, error) {
	c, err := guard(ctx, "NTFS boot sector and MFT", func() (*ntfs.NTFSContext, error) {
		return ntfs.GetNTFSContext(r, 0)
	})
	if err != nil {
		return nil, fmt.Errorf("ntfs: %w", asCorrupt(err))
	}
	return &ntfsFS{ctx: c}, nil
}

// asCorrupt marks library errors (which are bad data, not I/O) as ErrCorrupt.
func asCorrupt(err error) error {
	if err == nil || isCorrupt(err) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

func isCorrupt(err error) bool {
	for e := err; e != nil; {
		if e == ErrCorrupt {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// call runs fn under the lock and guard.
func ntfsCall[T any](n *ntfsFS, what string, fn func() (T, error)) (T, error) {
	v, err := guard(context.Background(), what, func() (T, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		return fn()
	})
	return v, asCorrupt(err)
}

func (n *ntfsFS) root() (Entry, error) {
	return ntfsCall(n, "NTFS root", func() (Entry, error) {
		m, err := n.ctx.GetMFT(ntfsRootRecord)
		if err != nil {
			return Entry{}, err
		}
		return n.entry(m, "."), nil
	})
}

// entry builds an Entry from an MFT record: times from
// $STANDARD_INFORMATION, size of the unnamed $DATA, symlink target from
// $REPARSE_POINT.
func (n *ntfsFS) entry(m *ntfs.MFT_ENTRY, name string) Entry {
	e := Entry{Name: name, Ino: uint64(m.Record_number()), Mode: 0o644, Blocks: -1}
	if m.Flags().IsSet("DIRECTORY") {
		e.Mode = fs.ModeDir | 0o755
	}
	var attrs uint32
	var data io.ReaderAt
	for _, a := range m.EnumerateAttributes(n.ctx) {
		switch a.Type().Value {
		case ntfs.ATTR_TYPE_STANDARD_INFORMATION:
			var b [36]byte
			if k, _ := a.Data(n.ctx).ReadAt(b[:], 0); k == len(b) {
				le := binary.LittleEndian
				e.Btime, e.ModTime = fileTime(le.Uint64(b[0:])), fileTime(le.Uint64(b[8:]))
				e.Ctime, e.Atime = fileTime(le.Uint64(b[16:])), fileTime(le.Uint64(b[24:]))
				attrs = le.Uint32(b[32:])
			}
		case ntfs.ATTR_TYPE_FILE_NAME:
			var ns [1]byte // namespace: 0 POSIX, 1 Win32, 2 DOS (an alias, not a link), 3 both
			if k, _ := a.Data(n.ctx).ReadAt(ns[:], 0x41); k == 1 && ns[0] != 2 {
				e.Nlink++
			}
		case ntfs.ATTR_TYPE_DATA:
			if a.Name() == "" && (a.IsResident() || a.Runlist_vcn_start() == 0) && !e.Mode.IsDir() {
				e.Size = a.DataSize()
				data = a.Data(n.ctx)
			}
		case attrReparsePoint:
			buf := make([]byte, min(a.DataSize(), 16<<10))
			k, _ := a.Data(n.ctx).ReadAt(buf, 0)
			if t, ok := reparseTarget(buf[:k]); ok {
				e.Mode, e.Target, e.Size = fs.ModeSymlink|0o777, t, int64(len(t))
			}
		}
	}
	e.Nlink = max(e.Nlink, 1)
	if attrs&0x4 != 0 && data != nil && e.Mode.IsRegular() && e.Size >= 10 && e.Size <= 8+2*maxSymlink {
		if t, ok := interixLink(data, e.Size); ok {
			e.Mode, e.Target, e.Size = fs.ModeSymlink|0o777, t, int64(len(t))
		}
	}
	if attrs&0x1 != 0 && e.Mode.IsRegular() { // FILE_ATTRIBUTE_READONLY
		e.Mode = 0o444
	}
	return e
}

// fileTime converts an NTFS time (100 ns units since 1601) at any date it
// holds; the library's conversion goes through int64 nanoseconds and wraps
// outside 1678..2262.
func fileTime(ft uint64) time.Time {
	const epochDiff = 11644473600 // seconds from 1601 to 1970
	return time.Unix(int64(ft/1e7)-epochDiff, int64(ft%1e7)*100).UTC()
}

// interixLink decodes the symlinks ntfs-3g writes by default: a system file
// whose data is "IntxLNK\x01" and the UTF-16LE target.
func interixLink(r io.ReaderAt, size int64) (string, bool) {
	b := make([]byte, size)
	if k, _ := r.ReadAt(b, 0); int64(k) != size || string(b[:8]) != "IntxLNK\x01" || size%2 != 0 {
		return "", false
	}
	u := make([]uint16, (size-8)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[8+2*i:])
	}
	return string(utf16.Decode(u)), true
}

// reparseTarget decodes a symlink or junction reparse buffer:
//
//	0 tag  4 data length  8 reserved  then substitute name offset/length,
//	print name offset/length (u16 each), symlinks a 4-byte flags word,
//	then the UTF-16 path buffer.
func reparseTarget(b []byte) (string, bool) {
	if len(b) < 16 {
		return "", false
	}
	le := binary.LittleEndian
	tag := le.Uint32(b)
	buf := 16
	switch tag {
	case reparseTagSymlink:
		buf = 20
	case reparseTagJunction:
	default:
		return "", false
	}
	get := func(off, n int) (string, bool) {
		if buf+off+n > len(b) || n%2 != 0 {
			return "", false
		}
		u := make([]uint16, n/2)
		for i := range u {
			u[i] = le.Uint16(b[buf+off+2*i:])
		}
		return string(utf16.Decode(u)), true
	}
	s, ok := get(int(le.Uint16(b[12:])), int(le.Uint16(b[14:]))) // print name
	if !ok || s == "" {
		s, ok = get(int(le.Uint16(b[8:])), int(le.Uint16(b[10:]))) // substitute name
		s = strings.TrimPrefix(s, `\??\`)
	}
	if !ok || s == "" {
		return "", false
	}
	return strings.ReplaceAll(s, `\`, "/"), true
}

func (n *ntfsFS) readDir(dir *Entry) ([]Entry, error) {
	return ntfsCall(n, "NTFS directory", func() ([]Entry, error) {
		m, err := n.ctx.GetMFT(int64(dir.Ino))
		if err != nil {
			return nil, err
		}
		// the library walks $INDEX_ALLOCATION in 4 KiB steps up to its
		// claimed size: refuse absurd sizes instead of spinning
		for _, a := range m.EnumerateAttributes(n.ctx) {
			if a.Type().Value == ntfs.ATTR_TYPE_INDEX_ALLOCATION && a.DataSize() > maxDirBytes {
				return nil, corruptf("ntfs: directory %d index of %d bytes", dir.Ino, a.DataSize())
			}
		}
		type key struct {
			ref  uint64
			name string
		}
		seen := map[key]bool{} // a record's other names in this directory are hard links
		var out []Entry
		for _, rec := range m.Dir(n.ctx) {
			ref := rec.MftReference()
			fn := rec.File()
			k := key{ref, fn.Name()}
			if seen[k] || ref < ntfsFirstUser || fn.NameType().Name == "DOS" {
				continue
			}
			if len(out) >= maxDirEntries {
				return out, corruptf("ntfs: too many entries")
			}
			seen[k] = true
			child, err := n.ctx.GetMFT(int64(ref))
			if err != nil {
				continue
			}
			out = append(out, n.entry(child, fn.Name()))
		}
		return out, nil
	})
}

func (n *ntfsFS) readLink(e *Entry) (string, error) {
	return "", corruptf("ntfs: record %d has no symlink target", e.Ino)
}

func (n *ntfsFS) open(e *Entry) (File, error) {
	size := e.Size
	r, err := ntfsCall(n, "NTFS open", func() (io.ReaderAt, error) {
		m, err := n.ctx.GetMFT(int64(e.Ino))
		if err != nil {
			return nil, err
		}
		return ntfs.OpenStream(n.ctx, m, ntfs.ATTR_TYPE_DATA, ntfs.WILDCARD_STREAM_ID, "")
	})
	if err != nil {
		if size == 0 {
			return &memFile{}, nil
		}
		return nil, err
	}
	data, err := ntfsCall(n, "NTFS runs", func() ([]Range, error) { return ntfsData(r, size), nil })
	if err != nil {
		return nil, err
	}
	return &ntfsFile{n: n, r: r, size: size, data: data}, nil
}

// ntfsData turns the stream's runs into the data map: sparse runs are
// holes (an NTFS sparse file's unallocated clusters), the rest is data.
func ntfsData(r io.ReaderAt, size int64) []Range {
	rr, ok := r.(ntfs.RangeReaderAt)
	if !ok {
		return []Range{{Off: 0, Len: size}}
	}
	var out []Range
	for _, run := range rr.Ranges() {
		start, end := max(run.Offset, 0), min(run.Offset+run.Length, size)
		if run.IsSparse || start >= end {
			continue
		}
		if k := len(out); k > 0 && out[k-1].Off+out[k-1].Len == start {
			out[k-1].Len += end - start
			continue
		}
		out = append(out, Range{Off: start, Len: end - start})
	}
	return out
}

type ntfsFile struct {
	n    *ntfsFS
	r    io.ReaderAt
	size int64
	data []Range
}

func (f *ntfsFile) Size() int64 { return f.size }

// Data is the map of non-sparse runs, computed at open.
func (f *ntfsFile) Data() []Range { return f.data }

func (f *ntfsFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= f.size {
		return 0, io.EOF
	}
	want := len(p)
	p = p[:min(int64(len(p)), f.size-off)]
	k, err := f.read(p, off)
	if err == nil && k < want {
		err = io.EOF
	}
	return k, err
}

// read calls the library's ReadAt under the lock with recover but without a
// goroutine per call: a read only maps runs already parsed at open.
func (f *ntfsFile) read(p []byte, off int64) (k int, err error) {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	defer recoverInto(&err, "NTFS read")
	k, err = f.r.ReadAt(p, off)
	if err == io.EOF && k == len(p) {
		err = nil
	}
	return k, err
}

// Limits on the alternate data streams shown as xattrs.
const (
	ntfsMaxStreams    = 256
	ntfsMaxStreamSize = 64 << 10 // the Linux limit on one xattr value
)

// xattrs shows each named $DATA stream (alternate data stream) of up to
// 64 KiB as "user.<stream name>", the convention of ntfs-3g's
// streams_interface=xattr. Larger streams and those past the 256th are
// left out. NTFS has no POSIX ACLs or owners to map.
func (n *ntfsFS) xattrs(e *Entry) ([]Xattr, error) {
	return ntfsCall(n, "NTFS streams", func() ([]Xattr, error) {
		m, err := n.ctx.GetMFT(int64(e.Ino))
		if err != nil {
			return nil, err
		}
		var out []Xattr
		for _, a := range m.EnumerateAttributes(n.ctx) {
			name := a.Name()
			if a.Type().Value != ntfs.ATTR_TYPE_DATA || name == "" || strings.ContainsRune(name, 0) ||
				!(a.IsResident() || a.Runlist_vcn_start() == 0) || a.DataSize() > ntfsMaxStreamSize {
				continue
			}
			if len(out) >= ntfsMaxStreams {
				break
			}
			v := make([]byte, a.DataSize())
			k, _ := a.Data(n.ctx).ReadAt(v, 0)
			out = append(out, Xattr{Name: "user." + name, Value: v[:k]})
		}
		return out, nil
	})
}
