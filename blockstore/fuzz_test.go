package blockstore

import (
	"bytes"
	"testing"
)

func FuzzShardHeader(f *testing.F) {
	good := encodeShard(7, 1, 4, 2, 4*700-3, bytes.Repeat([]byte{9}, 700))
	f.Add(good)
	f.Add(good[:shardHeaderLen])
	f.Add(good[:30])
	f.Add([]byte("RWSHARD\x00garbage"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeShardPrefix(b)
		if err != nil {
			return
		}
		if h.validate() != nil || len(h.table) != h.blocks() || int64(len(b)) < h.prefixLen() {
			t.Fatalf("accepted an invalid header: %+v", h)
		}
		data := b[h.prefixLen():]
		if int64(len(data)) > h.shardLen {
			data = data[:h.shardLen]
		}
		_ = h.checkBlocks(data[:len(data)/int(h.block)*int(h.block)], 0)
	})
}

func FuzzIndexValue(f *testing.F) {
	f.Add(location{segment: 3, offset: 100, length: 5000}.encode())
	f.Add(segRecord{dataLen: 1 << 20, entries: 9, created: 1}.encode())
	f.Add([]byte{1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := decodeLocation(b); err == nil {
			if !bytes.Equal(l.encode(), b) {
				t.Fatalf("location does not round-trip: %x", b)
			}
		}
		if r, err := decodeSegRecord(b); err == nil && !bytes.Equal(r.encode(), b) {
			t.Fatalf("segment record does not round-trip: %x", b)
		}
		if e, err := parseEntry(b); err == nil && (e.length > len(b) || e.length < minEntryLen) {
			t.Fatalf("entry header accepted out of range: %+v", e)
		}
		parseWrappedKey(b)
	})
}

// FuzzParseKeyFile: a key file comes from the user (vault unlock/attach
// --key-file); any bytes give a master key of 32 bytes or an error, never a
// panic.
func FuzzParseKeyFile(f *testing.F) {
	f.Add([]byte(`{"format":"rewind vault key","version":2,"master":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`))
	f.Add([]byte(`{"version":1,"kdf":"argon2id","time":1}`))
	f.Add([]byte(`{"format":"rewind vault key","version":2,"master":"AA=="}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseKeyFile(b)
		if err == nil && m == ([32]byte{}) && !bytes.Contains(b, []byte("AAAA")) {
			t.Fatalf("accepted %q as an all-zero key", b)
		}
	})
}
