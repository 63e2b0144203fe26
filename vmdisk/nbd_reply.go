package vmdisk

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// replyReader decodes the reply to one request, checking every field
// against the request before trusting it.
type replyReader struct {
	c      *nbdClient
	handle uint64
	what   string
}

// chunkHdr is a structured reply chunk header (or a simple reply when simple).
type chunkHdr struct {
	simple bool
	errno  uint32 // simple replies
	flags  uint16
	typ    uint16
	length uint32
}

func (r *replyReader) full(b []byte) error {
	if _, err := io.ReadFull(r.c.br, b); err != nil {
		return r.c.ioErr(r.what, err)
	}
	return nil
}

func (r *replyReader) next() (chunkHdr, error) {
	var b [20]byte
	if err := r.full(b[:4]); err != nil {
		return chunkHdr{}, err
	}
	switch m := binary.BigEndian.Uint32(b[:]); m {
	case nbdSimpleMagic:
		if err := r.full(b[4:16]); err != nil {
			return chunkHdr{}, err
		}
		h := chunkHdr{simple: true, errno: binary.BigEndian.Uint32(b[4:])}
		return h, r.checkHandle(binary.BigEndian.Uint64(b[8:]))
	case nbdStructMagic:
		if !r.c.structured {
			return chunkHdr{}, r.c.protoErr("structured reply to %s without negotiating structured replies", r.what)
		}
		if err := r.full(b[4:20]); err != nil {
			return chunkHdr{}, err
		}
		h := chunkHdr{flags: binary.BigEndian.Uint16(b[4:]), typ: binary.BigEndian.Uint16(b[6:]),
			length: binary.BigEndian.Uint32(b[16:])}
		return h, r.checkHandle(binary.BigEndian.Uint64(b[8:]))
	default:
		return chunkHdr{}, r.c.protoErr("bad reply magic %#08x to %s", m, r.what)
	}
}

func (r *replyReader) checkHandle(h uint64) error {
	if h != r.handle {
		return r.c.protoErr("reply for handle %d while waiting for handle %d (%s)", h, r.handle, r.what)
	}
	return nil
}

// serverError turns an error chunk into an error.
func (r *replyReader) serverError(h chunkHdr) error {
	if h.length < 6 || h.length > 6+nbdMaxErrMsg+8 {
		return r.c.protoErr("error chunk of %d bytes in reply to %s", h.length, r.what)
	}
	b := make([]byte, h.length)
	if err := r.full(b); err != nil {
		return err
	}
	errno, n := binary.BigEndian.Uint32(b), int(binary.BigEndian.Uint16(b[4:]))
	if 6+n > len(b) {
		return r.c.protoErr("error message of %d bytes in a %d-byte chunk", n, len(b))
	}
	return fmt.Errorf("NBD server %s failed %s: %s: %q", r.c.addr, r.what, nbdErrno(errno), printable(b[6:6+n]))
}

func (r *replyReader) simpleErr(h chunkHdr) error {
	return fmt.Errorf("NBD server %s failed %s: %s", r.c.addr, r.what, nbdErrno(h.errno))
}

// ack reads the reply to a command without data.
func (r *replyReader) ack() error {
	for {
		h, err := r.next()
		switch {
		case err != nil:
			return err
		case h.simple && h.errno != 0:
			return r.simpleErr(h)
		case h.simple:
			return nil
		case h.typ&nbdReplyErrBit != 0:
			return r.serverError(h)
		case h.typ != nbdReplyNone || h.length != 0:
			return r.c.protoErr("reply type %d (%d bytes) to %s", h.typ, h.length, r.what)
		case h.flags&nbdReplyFlagDone != 0:
			return nil
		}
	}
}

// read fills p (the range off..off+len(p)) from the reply.
func (r *replyReader) read(p []byte, off int64) error {
	var cov []extent
	for {
		h, err := r.next()
		if err != nil {
			return err
		}
		if h.simple {
			if h.errno != 0 {
				return r.simpleErr(h)
			}
			return r.full(p)
		}
		if err := r.readChunk(h, p, off, &cov); err != nil {
			return err
		}
		if h.flags&nbdReplyFlagDone != 0 {
			return r.checkCoverage(cov, off, int64(len(p)))
		}
	}
}

func (r *replyReader) readChunk(h chunkHdr, p []byte, off int64, cov *[]extent) error {
	switch {
	case h.typ&nbdReplyErrBit != 0:
		return r.serverError(h)
	case h.typ == nbdReplyNone:
		if h.length != 0 || h.flags&nbdReplyFlagDone == 0 {
			return r.c.protoErr("NONE chunk of %d bytes without DONE in reply to %s", h.length, r.what)
		}
		return nil
	case h.typ == nbdReplyOffsetData:
		return r.dataChunk(h, p, off, cov)
	case h.typ == nbdReplyOffsetHole:
		return r.holeChunk(h, p, off, cov)
	}
	return r.c.protoErr("reply type %d in reply to %s", h.typ, r.what)
}

// place checks that [at, at+n) lies inside the request and returns its
// index into p.
func (r *replyReader) place(at, n, off int64, p []byte, kind string) (int64, error) {
	if at < off || n <= 0 || n > int64(len(p)) || at-off > int64(len(p))-n {
		return 0, r.c.protoErr("%s chunk %d+%d outside the request (%s)", kind, at, n, r.what)
	}
	return at - off, nil
}

func (r *replyReader) dataChunk(h chunkHdr, p []byte, off int64, cov *[]extent) error {
	if h.length <= 8 || int64(h.length)-8 > int64(len(p)) {
		return r.c.protoErr("data chunk of %d bytes for %s", h.length, r.what)
	}
	var b [8]byte
	if err := r.full(b[:]); err != nil {
		return err
	}
	at, n := int64(binary.BigEndian.Uint64(b[:])), int64(h.length)-8
	i, err := r.place(at, n, off, p, "data")
	if err != nil {
		return err
	}
	*cov = append(*cov, extent{at, n})
	return r.full(p[i : i+n])
}

func (r *replyReader) holeChunk(h chunkHdr, p []byte, off int64, cov *[]extent) error {
	if h.length != 12 {
		return r.c.protoErr("hole chunk of %d bytes for %s", h.length, r.what)
	}
	var b [12]byte
	if err := r.full(b[:]); err != nil {
		return err
	}
	at, n := int64(binary.BigEndian.Uint64(b[:])), int64(binary.BigEndian.Uint32(b[8:]))
	i, err := r.place(at, n, off, p, "hole")
	if err != nil {
		return err
	}
	*cov = append(*cov, extent{at, n})
	clear(p[i : i+n])
	return nil
}

// checkCoverage insists the chunks tile [off, off+n) exactly once.
func (r *replyReader) checkCoverage(cov []extent, off, n int64) error {
	slices.SortFunc(cov, func(a, b extent) int { return int(min(max(a.off-b.off, -1), 1)) })
	pos := off
	for _, e := range cov {
		if e.off != pos {
			return r.c.protoErr("read reply leaves %d+%d uncovered or overlapping (%s)", pos, e.off-pos, r.what)
		}
		pos = e.end()
	}
	if pos != off+n {
		return r.c.protoErr("read reply covers only %d of %d bytes (%s)", pos-off, n, r.what)
	}
	return nil
}

// blockStatus collects the descriptors of context id.
func (r *replyReader) blockStatus(id uint32, off int64, n uint32) ([]statusExtent, error) {
	var out []statusExtent
	seen := false
	for {
		h, err := r.next()
		switch {
		case err != nil:
			return nil, err
		case h.simple && h.errno != 0:
			return nil, r.simpleErr(h)
		case h.simple:
			return nil, r.c.protoErr("simple reply without data to %s", r.what)
		case h.typ&nbdReplyErrBit != 0:
			return nil, r.serverError(h)
		case h.typ == nbdReplyBlockStat:
			got, err := r.statusChunk(h, id, off, n)
			if err != nil {
				return nil, err
			}
			if got != nil {
				if seen {
					return nil, r.c.protoErr("two block status chunks for one context (%s)", r.what)
				}
				out, seen = got, true
			}
		case h.typ != nbdReplyNone || h.length != 0:
			return nil, r.c.protoErr("reply type %d to %s", h.typ, r.what)
		}
		if h.flags&nbdReplyFlagDone != 0 {
			if !seen {
				return nil, r.c.protoErr("no block status descriptors for the context asked (%s)", r.what)
			}
			return out, nil
		}
	}
}

// statusChunk parses one BLOCK_STATUS chunk; nil when it is another context's.
func (r *replyReader) statusChunk(h chunkHdr, id uint32, off int64, n uint32) ([]statusExtent, error) {
	if h.length < 12 || (h.length-4)%8 != 0 || h.length > nbdMaxStatusLen {
		return nil, r.c.protoErr("block status chunk of %d bytes (%s)", h.length, r.what)
	}
	b := make([]byte, h.length)
	if err := r.full(b); err != nil {
		return nil, err
	}
	cid := binary.BigEndian.Uint32(b)
	if !r.knownContext(cid) {
		return nil, r.c.protoErr("block status for unknown context id %d (%s)", cid, r.what)
	}
	if cid != id {
		return nil, nil
	}
	return r.descriptors(b[4:], off, off+int64(n))
}

func (r *replyReader) knownContext(id uint32) bool {
	for _, v := range r.c.contexts {
		if v == id {
			return true
		}
	}
	return false
}

// descriptors decodes (length, flags) pairs from off; they must stay inside
// the export, and only the last may run past end (it is clipped).
func (r *replyReader) descriptors(b []byte, off, end int64) ([]statusExtent, error) {
	out := make([]statusExtent, 0, len(b)/8)
	pos := off
	for k := 0; k < len(b); k += 8 {
		l := int64(binary.BigEndian.Uint32(b[k:]))
		if l == 0 {
			return nil, r.c.protoErr("zero-length block status descriptor (%s)", r.what)
		}
		if pos >= end {
			return nil, r.c.protoErr("block status descriptors run past the requested range (%s)", r.what)
		}
		if pos+l > r.c.size {
			return nil, r.c.protoErr("block status extent %d+%d beyond the export's %d bytes (%s)", pos, l, r.c.size, r.what)
		}
		out = append(out, statusExtent{extent{pos, min(pos+l, end) - pos}, binary.BigEndian.Uint32(b[k+4:])})
		pos += l
	}
	return out, nil
}
