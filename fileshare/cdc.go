package fileshare

import (
	"errors"
	"io"
)

// Content-defined chunking, FastCDC-style: a gear rolling hash
// (h = h<<1 + gear[byte]) cut where its top bits are zero. Normalized
// chunking uses a stricter mask (more bits) before the average size and a
// looser one after it, which pulls chunk sizes towards the average. Nothing
// is hashed before MinSize, and a cut is forced at MaxSize.
const (
	MinChunk = 256 << 10
	AvgChunk = 1 << 20
	MaxChunk = 4 << 20

	avgBits = 20 // log2(AvgChunk)
	// maskHard has avgBits+2 top bits (used below the average), maskEasy avgBits-2.
	maskHard = uint64(1<<(avgBits+2)-1) << (64 - (avgBits + 2))
	maskEasy = uint64(1<<(avgBits-2)-1) << (64 - (avgBits - 2))
)

// gear is 256 pseudo-random words from splitmix64 seeded with a fixed
// constant: part of the format (changing it changes every chunk boundary).
var gear = func() (g [256]uint64) {
	x := uint64(0x7265776e6463646d) // "rewndcdm"
	for i := range g {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		g[i] = z ^ z>>31
	}
	return g
}()

// cut returns the length of the first chunk of b (len(b) if no cut point is
// found within MaxChunk and b is shorter than that).
func cut(b []byte) int {
	n := len(b)
	if n <= MinChunk {
		return n
	}
	n = min(n, MaxChunk)
	mid := min(AvgChunk, n)
	var h uint64
	for i, c := range b[MinChunk:mid] {
		h = h<<1 + gear[c]
		if h&maskHard == 0 {
			return MinChunk + i + 1
		}
	}
	for i, c := range b[mid:n] {
		h = h<<1 + gear[c]
		if h&maskEasy == 0 {
			return mid + i + 1
		}
	}
	return n
}

// chunker splits a stream into content-defined chunks. It owns a buffer of
// 2*MaxChunk; a returned chunk is valid until the next call.
type chunker struct {
	r     io.Reader
	buf   []byte
	start int // first unconsumed byte
	end   int // end of valid data
	eof   bool
}

func newChunker(buf []byte) *chunker {
	if cap(buf) < 2*MaxChunk {
		buf = make([]byte, 2*MaxChunk)
	}
	return &chunker{buf: buf[:2*MaxChunk]}
}

func (c *chunker) reset(r io.Reader) {
	c.r, c.start, c.end, c.eof = r, 0, 0, false
}

// next returns the next chunk, or io.EOF after the last.
func (c *chunker) next() ([]byte, error) {
	if err := c.fill(); err != nil {
		return nil, err
	}
	if c.start == c.end {
		return nil, io.EOF
	}
	n := cut(c.buf[c.start:c.end])
	if n == c.end-c.start && !c.eof && n < MaxChunk {
		return nil, errors.New("chunker: internal buffer underrun")
	}
	b := c.buf[c.start : c.start+n]
	c.start += n
	return b, nil
}

// fill makes at least MaxChunk bytes available unless the stream ends first.
func (c *chunker) fill() error {
	if c.end-c.start >= MaxChunk || c.eof {
		return nil
	}
	if c.start > 0 {
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
	}
	for c.end < MaxChunk && !c.eof {
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if err == io.EOF {
			c.eof = true
		} else if err != nil {
			return err
		}
	}
	return nil
}
