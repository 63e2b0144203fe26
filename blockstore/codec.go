package blockstore

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/golang/snappy"
	"github.com/zeebo/blake3"
)

// Segment entry, one per chunk, appended back to back in a segment:
//
//	off  size  field
//	0    4     entry length in bytes, header included (uint32 LE)
//	4    32    chunk id (keyed BLAKE3-256 of the plaintext)
//	36   1     flags: 0 raw, 1 snappy, 2 all-zero (payload = uint64 LE length)
//	37   12    GCM nonce: 4 zero bytes + uint64 BE counter
//	49   n+16  AES-256-GCM(chunk key, nonce, payload, aad = id || flags)
const (
	entryHeaderLen = 49
	gcmTagLen      = 16
	flagRaw        = 0
	flagSnappy     = 1
	flagZero       = 2
	minEntryLen    = entryHeaderLen + gcmTagLen
)

var snappyPool = sync.Pool{New: func() any { return new([]byte) }}

// chunkID is the keyed BLAKE3-256 of data.
func (k *keys) chunkID(data []byte) ID {
	h, err := blake3.NewKeyed(k.idKey[:])
	if err != nil {
		panic(err)
	}
	h.Write(data)
	var id ID
	h.Sum(id[:0])
	return id
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var entryPool = sync.Pool{New: func() any { return new([]byte) }}

// releaseEntry returns an encoded entry's buffer once it was copied.
func releaseEntry(e []byte) {
	e = e[:0]
	entryPool.Put(&e)
}

// encodeEntry compresses and encrypts data into a segment entry under nonce.
// The result may be handed to releaseEntry after use.
func (k *keys) encodeEntry(id ID, data []byte, nonce uint64) []byte {
	flags, payload := byte(flagRaw), data
	var zl [8]byte
	bufp := snappyPool.Get().(*[]byte)
	defer snappyPool.Put(bufp)
	if allZero(data) {
		binary.LittleEndian.PutUint64(zl[:], uint64(len(data)))
		flags, payload = flagZero, zl[:]
	} else {
		if cap(*bufp) < snappy.MaxEncodedLen(len(data)) {
			*bufp = make([]byte, snappy.MaxEncodedLen(len(data)))
		}
		if c := snappy.Encode((*bufp)[:cap(*bufp)], data); len(c) < len(data) {
			flags, payload = flagSnappy, c
		}
	}
	n := entryHeaderLen + len(payload) + gcmTagLen
	ep := entryPool.Get().(*[]byte)
	e := *ep
	if cap(e) < n {
		e = make([]byte, 0, max(n, snappy.MaxEncodedLen(4<<20)+minEntryLen))
	}
	e = e[:entryHeaderLen]
	clear(e[37:41])
	binary.LittleEndian.PutUint32(e[0:], uint32(n))
	copy(e[4:36], id[:])
	e[36] = flags
	binary.BigEndian.PutUint64(e[41:49], nonce)
	return k.enc.Seal(e, e[37:49], payload, entryAAD(id, flags))
}

func entryAAD(id ID, flags byte) []byte {
	a := make([]byte, IDSize+1)
	copy(a, id[:])
	a[IDSize] = flags
	return a
}

// entryInfo is a parsed entry header.
type entryInfo struct {
	id     ID
	length int
	flags  byte
	nonce  uint64
}

// parseEntry reads the header at the start of b (which may hold more).
func parseEntry(b []byte) (entryInfo, error) {
	var e entryInfo
	if len(b) < minEntryLen {
		return e, fmt.Errorf("entry truncated (%d bytes)", len(b))
	}
	e.length = int(binary.LittleEndian.Uint32(b))
	copy(e.id[:], b[4:36])
	e.flags = b[36]
	e.nonce = binary.BigEndian.Uint64(b[41:49])
	if e.length < minEntryLen || e.length > len(b) || e.flags > flagZero {
		return e, fmt.Errorf("bad entry header (length %d, flags %d)", e.length, e.flags)
	}
	return e, nil
}

// decodeEntry authenticates and decompresses one whole entry and checks that
// the plaintext hashes to want. It decrypts in place: b is overwritten.
func (k *keys) decodeEntry(b []byte, want ID) ([]byte, error) {
	bad := func(r string) error { return &CorruptionError{Chunk: want, Reason: r} }
	e, err := parseEntry(b)
	if err != nil {
		return nil, bad(err.Error())
	}
	if e.id != want || e.length != len(b) {
		return nil, bad("entry does not hold this chunk")
	}
	pt, err := k.enc.Open(b[entryHeaderLen:entryHeaderLen], b[37:49], b[entryHeaderLen:], entryAAD(e.id, e.flags))
	if err != nil {
		return nil, bad("authentication tag mismatch")
	}
	data, err := expand(e.flags, pt)
	if err != nil {
		return nil, bad(err.Error())
	}
	if k.chunkID(data) != want {
		return nil, bad("plaintext does not hash to its id")
	}
	return data, nil
}

func expand(flags byte, pt []byte) ([]byte, error) {
	switch flags {
	case flagRaw:
		return pt, nil
	case flagZero:
		if len(pt) != 8 {
			return nil, fmt.Errorf("zero chunk length field is %d bytes", len(pt))
		}
		n := binary.LittleEndian.Uint64(pt)
		if n > MaxChunkSize {
			return nil, fmt.Errorf("zero chunk of %d bytes too large", n)
		}
		return make([]byte, n), nil
	}
	n, err := snappy.DecodedLen(pt)
	if err != nil || n > MaxChunkSize {
		return nil, fmt.Errorf("bad snappy length %d: %v", n, err)
	}
	return snappy.Decode(make([]byte, n), pt)
}
