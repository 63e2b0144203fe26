package guest

import (
	"io"
	"sort"
)

// extent maps n file blocks starting at logical block lblk to physical block
// pblk. Unwritten (preallocated) extents read as zeros.
type extent struct {
	lblk, pblk, n uint64
	unwritten     bool
}

// blockFile reads a file through its extent list. Blocks not covered by an
// extent (holes) read as zeros. It is safe for concurrent use.
type blockFile struct {
	r    io.ReaderAt // the volume
	bs   int64
	base int64 // byte offset of physical block 0 (0 except for FAT's data area)
	size int64
	exts []extent // sorted by lblk, non-overlapping
}

func (f *blockFile) Size() int64 { return f.size }

func (f *blockFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, corruptf("negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := len(p)
	if rem := f.size - off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		lblk := uint64(pos / f.bs)
		inBlk := pos % f.bs
		i := sort.Search(len(f.exts), func(i int) bool { return f.exts[i].lblk+f.exts[i].n > lblk })
		var chunk int64
		if i < len(f.exts) && f.exts[i].lblk <= lblk {
			e := f.exts[i]
			chunk = int64(e.lblk+e.n-lblk)*f.bs - inBlk
			buf := p[n:min(int64(len(p)), int64(n)+chunk)]
			if e.unwritten {
				clear(buf)
			} else if err := readFull(f.r, buf, f.base+int64(e.pblk+(lblk-e.lblk))*f.bs+inBlk); err != nil {
				return n, err
			}
			n += len(buf)
			continue
		}
		// hole up to the next extent (or the end of the request; the
		// next extent may be absurdly far away in a corrupt file)
		chunk = int64(len(p) - n)
		if i < len(f.exts) {
			if gap := f.exts[i].lblk - lblk; gap <= uint64(chunk/f.bs)+1 {
				chunk = min(chunk, int64(gap)*f.bs-inBlk)
			}
		}
		buf := p[n:min(int64(len(p)), int64(n)+chunk)]
		clear(buf)
		n += len(buf)
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// normalize sorts extents, drops empty ones and rejects overlaps.
func normalize(exts []extent) ([]extent, error) {
	sort.Slice(exts, func(i, j int) bool { return exts[i].lblk < exts[j].lblk })
	out := exts[:0]
	for _, e := range exts {
		if e.n == 0 {
			continue
		}
		if len(out) > 0 {
			last := &out[len(out)-1]
			if last.lblk+last.n > e.lblk {
				return nil, corruptf("overlapping extents at block %d", e.lblk)
			}
			if last.lblk+last.n == e.lblk && last.pblk+last.n == e.pblk && last.unwritten == e.unwritten {
				last.n += e.n
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// mapped calls fn for each block-aligned piece of the file that is backed by
// written extents (holes and unwritten extents are skipped), in order, up to
// limit bytes in total. Used to walk directories without touching holes.
func (f *blockFile) mapped(limit int64, fn func(off, n int64) error) error {
	var total int64
	for _, e := range f.exts {
		if e.unwritten {
			continue
		}
		start := int64(e.lblk) * f.bs
		end := min(start+int64(e.n)*f.bs, f.size)
		if start < 0 || start >= f.size {
			continue
		}
		if total += end - start; total > limit {
			return corruptf("more than %d bytes of directory", limit)
		}
		if err := fn(start, end-start); err != nil {
			return err
		}
	}
	return nil
}

// Data returns the byte ranges backed by written extents, merged where
// they touch and cut at the file size.
func (f *blockFile) Data() []Range {
	var out []Range
	for _, e := range f.exts {
		if e.unwritten {
			continue
		}
		start := int64(e.lblk) * f.bs
		end := min(start+int64(e.n)*f.bs, f.size)
		if start < 0 || start >= end {
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
