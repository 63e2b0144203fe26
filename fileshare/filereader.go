package fileshare

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
)

// FileReader reads one file of a point. ReadAt is safe for concurrent use;
// it finds the chunk for an offset by binary search in the extent table
// (loading only the extent list that covers it) and caches a few chunks.
type FileReader struct {
	ctx  context.Context
	r    ChunkReader
	n    *Node
	size int64

	mu     sync.Mutex
	lists  map[int][]Extent // decoded extent lists by index
	chunks *fifoCache[[]byte]
}

const readerCacheChunks = 4

// Open returns a reader for regular file n. ReadAt uses ctx's values but
// not its cancellation (a FUSE open request ends long before the reads);
// ReadAtContext takes a context per read.
func (t *Tree) Open(ctx context.Context, n *Node) (*FileReader, error) {
	return openFile(context.WithoutCancel(ctx), t.r, n)
}

func openFile(ctx context.Context, r ChunkReader, n *Node) (*FileReader, error) {
	if n.Type != TypeFile {
		return nil, fmt.Errorf("%s is a %s, not a file", quote(n.Name), n.Type)
	}
	return &FileReader{ctx: ctx, r: r, n: n, size: n.Size,
		lists: map[int][]Extent{}, chunks: newFIFOCache[[]byte](readerCacheChunks)}, nil
}

// Size is the file's length.
func (f *FileReader) Size() int64 { return f.size }

// ReadAt implements io.ReaderAt; holes read as zeros.
func (f *FileReader) ReadAt(p []byte, off int64) (int, error) {
	return f.ReadAtContext(f.ctx, p, off)
}

// ReadAtContext is ReadAt bounded by ctx.
func (f *FileReader) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset", quote(f.n.Name))
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := f.size - off; int64(want) > rest {
		want = int(rest)
	}
	done := 0
	for done < want {
		k, err := f.readSome(ctx, p[done:want], off+int64(done))
		if err != nil {
			return done, err
		}
		done += k
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// readSome fills p from the extent or hole at off; it returns how much.
func (f *FileReader) readSome(ctx context.Context, p []byte, off int64) (int, error) {
	if f.n.inline != nil {
		return copy(p, f.n.inline[off:]), nil
	}
	x, next, err := f.extentAt(ctx, off)
	if err != nil {
		return 0, err
	}
	if x == nil { // hole up to next
		k := int(min(int64(len(p)), next-off))
		clear(p[:k])
		return k, nil
	}
	data, err := f.chunk(ctx, x)
	if err != nil {
		return 0, err
	}
	return copy(p, data[off-x.Off:]), nil
}

// extentAt returns the extent holding off, or nil and the offset where the
// next data starts (the file size when none).
func (f *FileReader) extentAt(ctx context.Context, off int64) (*Extent, int64, error) {
	xs := f.n.extents
	li := -1
	if f.n.lists != nil {
		li = sort.Search(len(f.n.lists), func(i int) bool { return f.n.lists[i].First > off }) - 1
		var err error
		if xs, err = f.list(ctx, max(li, 0)); err != nil {
			return nil, 0, err
		}
		if li < 0 {
			return nil, xs[0].Off, nil
		}
	}
	i := sort.Search(len(xs), func(i int) bool { return xs[i].Off+xs[i].Len > off })
	if i < len(xs) && xs[i].Off <= off {
		return &xs[i], 0, nil
	}
	if i < len(xs) {
		return nil, xs[i].Off, nil
	}
	if li >= 0 && li+1 < len(f.n.lists) {
		return nil, f.n.lists[li+1].First, nil
	}
	return nil, f.size, nil
}

func (f *FileReader) list(ctx context.Context, i int) ([]Extent, error) {
	f.mu.Lock()
	xs, ok := f.lists[i]
	f.mu.Unlock()
	if ok {
		return xs, nil
	}
	ref := f.n.lists[i]
	data, err := f.r.Get(ctx, ref.ID)
	if err != nil {
		return nil, fmt.Errorf("extent list of %s: %w", quote(f.n.Name), err)
	}
	xs, err = decodeExtentList(data, f.size)
	if err == nil && (len(xs) != int(ref.Count) || xs[0].Off != ref.First) {
		err = corrupt("extent list %s does not match its reference", ref.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("extent list of %s: %w", quote(f.n.Name), err)
	}
	f.mu.Lock()
	if len(f.lists) >= 4 {
		clear(f.lists)
	}
	f.lists[i] = xs
	f.mu.Unlock()
	return xs, nil
}

func (f *FileReader) chunk(ctx context.Context, x *Extent) ([]byte, error) {
	data, ok := f.chunks.get(x.ID)
	if !ok {
		var err error
		if data, err = f.r.Get(ctx, x.ID); err != nil {
			return nil, fmt.Errorf("read %s at %d: %w", quote(f.n.Name), x.Off, err)
		}
		f.chunks.put(x.ID, data)
	}
	if int64(len(data)) != x.Len {
		return nil, corrupt("chunk %s of %s has %d bytes, the extent says %d", x.ID, quote(f.n.Name), len(data), x.Len)
	}
	return data, nil
}

// SeekData returns the first offset >= off that holds data (SEEK_DATA), or
// Size() when only a hole follows.
func (f *FileReader) SeekData(off int64) (int64, error) {
	if off >= f.size {
		return f.size, nil
	}
	if f.n.inline != nil {
		return off, nil
	}
	x, next, err := f.extentAt(f.ctx, off)
	if err != nil || x != nil {
		return off, err
	}
	return next, nil
}

// SeekHole returns the first offset >= off inside a hole (SEEK_HOLE); the
// end of the file counts as a hole.
func (f *FileReader) SeekHole(off int64) (int64, error) {
	for off < f.size && f.n.inline == nil {
		x, _, err := f.extentAt(f.ctx, off)
		if err != nil || x == nil {
			return off, err
		}
		off = x.Off + x.Len
	}
	return f.size, nil
}

// Extents calls fn for every stored extent in file order (the data map;
// everything between extents is a hole). Inline data counts as one extent
// with a zero ID.
func (f *FileReader) Extents(fn func(Extent) error) error {
	if f.n.inline != nil {
		if len(f.n.inline) == 0 {
			return nil
		}
		return fn(Extent{Len: int64(len(f.n.inline))})
	}
	if f.n.lists == nil {
		return eachExtent(f.n.extents, fn)
	}
	for i := range f.n.lists {
		xs, err := f.list(f.ctx, i)
		if err != nil {
			return err
		}
		if err := eachExtent(xs, fn); err != nil {
			return err
		}
	}
	return nil
}

func eachExtent(xs []Extent, fn func(Extent) error) error {
	for _, x := range xs {
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}
