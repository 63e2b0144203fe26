package blockstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Pebble key layout. Everything blockstore writes starts with "b/"; keys
// starting with "v/" belong to the catalog and are never touched here.
//
//	"b/format"          "RWBS" + uint32 BE format version (1); written last by Create
//	"b/key"             wrapped master key, JSON (same bytes as "keys/master" on targets)
//	"b/hw/nonce"        uint64 BE: nonce counter high-water (all nonces below may be used)
//	"b/hw/seg"          uint64 BE: segment id high-water (all ids below may be used)
//	"b/c/" + id[32]     chunk location, see locationLen
//	"b/s/" + seg u64 BE segment record, see segRecordLen
var (
	keyFormat   = []byte("b/format")
	keyMaster   = []byte("b/key")
	keyNonceHW  = []byte("b/hw/nonce")
	keySegHW    = []byte("b/hw/seg")
	prefixChunk = []byte("b/c/")
	prefixSeg   = []byte("b/s/")
	formatMagic = []byte("RWBS")
)

const (
	formatVersion = 1
	nonceRange    = 1 << 20
	segRange      = 1 << 10
)

// Chunk location value: version u8 (1) | segment u64 BE | offset u32 BE | length u32 BE.
const locationLen = 17

type location struct {
	segment uint64
	offset  uint32
	length  uint32
}

func chunkKey(id ID) []byte { return append(append([]byte{}, prefixChunk...), id[:]...) }

func (l location) encode() []byte {
	b := make([]byte, locationLen)
	b[0] = 1
	binary.BigEndian.PutUint64(b[1:], l.segment)
	binary.BigEndian.PutUint32(b[9:], l.offset)
	binary.BigEndian.PutUint32(b[13:], l.length)
	return b
}

func decodeLocation(b []byte) (location, error) {
	var l location
	if len(b) != locationLen || b[0] != 1 {
		return l, &CorruptionError{Reason: fmt.Sprintf("bad index value (%d bytes)", len(b))}
	}
	l.segment = binary.BigEndian.Uint64(b[1:])
	l.offset = binary.BigEndian.Uint32(b[9:])
	l.length = binary.BigEndian.Uint32(b[13:])
	if l.segment == 0 || l.length < minEntryLen || uint64(l.offset)+uint64(l.length) > 1<<32 {
		return l, &CorruptionError{Segment: l.segment, Reason: "index value out of range"}
	}
	return l, nil
}

// Segment record value: version u8 (1) | data length u64 BE | entries u32 BE | created unix ns i64 BE.
const segRecordLen = 21

type segRecord struct {
	dataLen int64
	entries uint32
	created int64
}

func segKey(seg uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte{}, prefixSeg...), seg)
}

func (r segRecord) encode() []byte {
	b := make([]byte, segRecordLen)
	b[0] = 1
	binary.BigEndian.PutUint64(b[1:], uint64(r.dataLen))
	binary.BigEndian.PutUint32(b[9:], r.entries)
	binary.BigEndian.PutUint64(b[13:], uint64(r.created))
	return b
}

func decodeSegRecord(b []byte) (segRecord, error) {
	if len(b) != segRecordLen || b[0] != 1 {
		return segRecord{}, &CorruptionError{Reason: "bad segment record"}
	}
	return segRecord{dataLen: int64(binary.BigEndian.Uint64(b[1:])),
		entries: binary.BigEndian.Uint32(b[9:]), created: int64(binary.BigEndian.Uint64(b[13:]))}, nil
}

func formatValue() []byte {
	return binary.BigEndian.AppendUint32(append([]byte{}, formatMagic...), formatVersion)
}

// getValue copies the value of key, reporting found=false when absent.
func getValue(db *pebble.DB, key []byte) ([]byte, bool, error) {
	v, c, err := db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("index get: %w", err)
	}
	defer c.Close()
	return append([]byte{}, v...), true, nil
}

// counter hands out unique uint64 values, reserving ranges durably in Pebble
// before handing any out, so no value is ever reused, even after a crash.
type counter struct {
	mu          sync.Mutex
	db          *pebble.DB
	key         []byte
	step        uint64
	next, limit uint64
}

func newCounter(db *pebble.DB, key []byte, step uint64) (*counter, error) {
	v, ok, err := getValue(db, key)
	if err != nil {
		return nil, err
	}
	c := &counter{db: db, key: key, step: step, next: 1, limit: 1}
	if ok {
		if len(v) != 8 {
			return nil, &CorruptionError{Reason: "bad counter " + string(key)}
		}
		c.next = max(1, binary.BigEndian.Uint64(v))
		c.limit = c.next
	}
	return c, nil
}

func (c *counter) take() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next >= c.limit {
		if err := c.reserveLocked(c.next + c.step); err != nil {
			return 0, err
		}
	}
	v := c.next
	c.next++
	return v, nil
}

func (c *counter) reserveLocked(limit uint64) error {
	if err := c.db.Set(c.key, binary.BigEndian.AppendUint64(nil, limit), pebble.Sync); err != nil {
		return fmt.Errorf("reserve %s: %w", c.key, err)
	}
	c.limit = limit
	return nil
}

// raise makes sure every future value is above v (used by RebuildIndex).
func (c *counter) raise(v uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v < c.next {
		return nil
	}
	c.next = v + 1
	return c.reserveLocked(c.next + c.step)
}

// peek returns the next value to be handed out.
func (c *counter) peek() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// scanPrefix calls fn for every key with prefix, in order. Key and value are
// only valid during the call.
func (s *Store) scanPrefix(prefix []byte, fn func(key, val []byte) error) error {
	upper := append([]byte{}, prefix...)
	upper[len(upper)-1]++ // prefixes end in '/', so this is the prefix's successor
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("index scan: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = fn(it.Key(), v)
		}
		if err != nil {
			it.Close()
			return err
		}
	}
	return it.Close()
}
