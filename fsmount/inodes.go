package fsmount

import (
	"encoding/binary"
	"hash/fnv"
	"sync"
)

// Inode numbers (see FORMAT.md):
//
//	bit 63      0                   1
//	bits 62..44 id space (1..2^19)  FNV-1a 63-bit hash of (space, id or parent ino + name)
//	bits 43..0  tree node id
//
// Space 0 holds the mount's own nodes (root 1, item dirs, point dirs, latest
// links), numbered in order of first use. Every point, and every guest file
// system inside a disk point, gets the next space when first touched. So an
// inode number is stable for the life of the mount, and hardlinks (same
// node id) share it.
const (
	spaceShift = 44
	maxSpaces  = 1 << (63 - spaceShift)
	hashedBit  = 1 << 63
	rootIno    = 1
)

type inoTable struct {
	mu        sync.Mutex
	synthetic map[string]uint64
	spaces    map[string]uint64
}

func newInoTable() *inoTable {
	return &inoTable{synthetic: map[string]uint64{"": rootIno}, spaces: map[string]uint64{"": 0}}
}

// syntheticID numbers a mount-made node by key (in space 0).
func (t *inoTable) syntheticID(key string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.synthetic[key]
	if !ok {
		id = uint64(len(t.synthetic)) + rootIno
		t.synthetic[key] = id
	}
	return id
}

// space numbers an id space by key.
func (t *inoTable) space(key string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.spaces[key]
	if !ok {
		s = uint64(len(t.spaces))
		t.spaces[key] = s
	}
	return s
}

// ino derives a node's inode number from its space and id; nodes without a
// usable id are numbered by a hash of their parent and name.
func ino(space, id, parent uint64, name string) uint64 {
	if id != 0 && id < 1<<spaceShift && space < maxSpaces {
		return space<<spaceShift | id
	}
	h := fnv.New64a()
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], space)
	binary.LittleEndian.PutUint64(b[8:], id)
	if id == 0 {
		binary.LittleEndian.PutUint64(b[16:], parent)
		h.Write(b[:])
		h.Write([]byte(name))
	} else {
		h.Write(b[:16])
	}
	return h.Sum64() | hashedBit
}
