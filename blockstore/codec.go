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
//	37   12    GCM nonce: owner epoch uint32 BE (0 before epochs) + uint64 BE counter
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

// compress picks the payload for data: an all-zero marker, snappy when it
// shrinks, else data itself. release returns pooled memory after use.
func compress(data []byte) (flags byte, payload []byte, release func()) {
	if allZero(data) {
		return flagZero, binary.LittleEndian.AppendUint64(nil, uint64(len(data))), func() {}
	}
	bufp := snappyPool.Get().(*[]byte)
	release = func() { snappyPool.Put(bufp) }
	if cap(*bufp) < snappy.MaxEncodedLen(len(data)) {
		*bufp = make([]byte, snappy.MaxEncodedLen(len(data)))
	}
	if c := snappy.Encode((*bufp)[:cap(*bufp)], data); len(c) < len(data) {
		return flagSnappy, c, release
	}
	return flagRaw, data, release
}

func entryLen(payload []byte) int { return entryHeaderLen + len(payload) + gcmTagLen }

// sealEntry writes the entry for payload into dst, which is exactly
// entryLen(payload) bytes (a reserved range of a segment buffer).
func (k *keys) sealEntry(dst []byte, id ID, flags byte, epoch uint32, nonce uint64, payload []byte) {
	binary.LittleEndian.PutUint32(dst[0:], uint32(len(dst)))
	copy(dst[4:36], id[:])
	dst[36] = flags
	binary.BigEndian.PutUint32(dst[37:41], epoch)
	binary.BigEndian.PutUint64(dst[41:49], nonce)
	out := k.enc.Seal(dst[entryHeaderLen:entryHeaderLen:len(dst)], dst[37:49], payload, entryAAD(id, flags))
	if len(out) != len(dst)-entryHeaderLen {
		panic("blockstore: entry size mismatch")
	}
}

// encodeEntry compresses and encrypts data into a new segment entry.
func (k *keys) encodeEntry(id ID, data []byte, nonce uint64) []byte {
	flags, payload, release := compress(data)
	defer release()
	e := make([]byte, entryLen(payload))
	k.sealEntry(e, id, flags, 0, nonce, payload)
	return e
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
