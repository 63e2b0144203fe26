package vmdisk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// ChangedBlocksError says where and why a changed-block list was refused.
type ChangedBlocksError struct {
	File   string
	Entry  int   // 0-based index of the offending entry; -1 when not tied to one
	Byte   int64 // byte offset in the file where the problem was noticed
	Reason string
}

func (e *ChangedBlocksError) Error() string {
	where := fmt.Sprintf("at byte %d", e.Byte)
	if e.Entry >= 0 {
		where = fmt.Sprintf("entry %d (byte %d)", e.Entry, e.Byte)
	}
	return fmt.Sprintf("changed-block list %s: %s: %s; fix the list (a JSON array of {\"offset\":N,\"length\":N} "+
		"as `rbd diff --format json` writes) or back up without it to compare block hashes", e.File, where, e.Reason)
}

// blockRange is the half-open block index range [a, b).
type blockRange struct{ a, b int64 }

// blockSet is a sorted set of disjoint, non-adjacent block ranges.
type blockSet struct{ r []blockRange }

// add appends [a, b); a must not precede the last range's start.
func (s *blockSet) add(a, b int64) {
	if n := len(s.r); n > 0 && a <= s.r[n-1].b {
		s.r[n-1].b = max(s.r[n-1].b, b)
		return
	}
	s.r = append(s.r, blockRange{a, b})
}

func (s *blockSet) has(i int64) bool {
	k := sort.Search(len(s.r), func(k int) bool { return s.r[k].b > i })
	return k < len(s.r) && s.r[k].a <= i
}

// cbtEntry is one element of the list; rbd adds "exists".
type cbtEntry struct {
	Offset *int64           `json:"offset"`
	Length *int64           `json:"length"`
	Exists *json.RawMessage `json:"exists"`
}

func loadChangedBlocks(path string, size int64) (*blockSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("changed-block list: %w", err)
	}
	return parseChangedBlocks(path, b, size)
}

// parseChangedBlocks validates a changed-block list against a disk of size
// bytes and widens its extents to whole blocks. Extents must be sorted,
// non-overlapping (touching is fine), non-empty and inside the disk.
func parseChangedBlocks(name string, data []byte, size int64) (*blockSet, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	fail := func(entry int, why string) error {
		return &ChangedBlocksError{File: name, Entry: entry, Byte: dec.InputOffset(), Reason: why}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fail(-1, "not a JSON array")
	}
	set := &blockSet{}
	var prevOff, prevEnd int64 = -1, 0
	for k := 0; dec.More(); k++ {
		var e cbtEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fail(k, "not an {\"offset\",\"length\"} object: "+err.Error())
		}
		off, end, err := checkCBTEntry(e, size)
		if err != nil {
			return nil, fail(k, err.Error())
		}
		if off < prevOff {
			return nil, fail(k, fmt.Sprintf("offset %d is before the previous entry's %d: the list must be sorted", off, prevOff))
		}
		if off < prevEnd {
			return nil, fail(k, fmt.Sprintf("extent %d+%d overlaps the previous entry (ends at %d)", off, end-off, prevEnd))
		}
		prevOff, prevEnd = off, end
		set.add(off/BlockSize, (end+BlockSize-1)/BlockSize)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, fail(-1, "array not terminated")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fail(-1, "trailing data after the array")
	}
	return set, nil
}

// checkCBTEntry validates one extent and returns its byte range.
func checkCBTEntry(e cbtEntry, size int64) (off, end int64, err error) {
	if e.Offset == nil || e.Length == nil {
		return 0, 0, errors.New("missing \"offset\" or \"length\"")
	}
	off, n := *e.Offset, *e.Length
	if off < 0 || n <= 0 {
		return 0, 0, fmt.Errorf("offset %d length %d: offset must be >= 0 and length > 0", off, n)
	}
	if off > size || n > size-off {
		return 0, 0, fmt.Errorf("extent %d+%d ends beyond the disk (%d bytes)", off, n, size)
	}
	if e.Exists != nil {
		switch string(*e.Exists) {
		case `"true"`, `"false"`, `true`, `false`:
		default:
			return 0, 0, fmt.Errorf("\"exists\" is %s, want true or false", *e.Exists)
		}
	}
	return off, off + n, nil
}
