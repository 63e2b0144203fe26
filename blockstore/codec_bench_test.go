package blockstore

import (
	"crypto/rand"
	"testing"
)

// BenchmarkCodec is one chunk's whole codec on 4 MiB of mixed data: encode
// (keyed id, snappy, AES-256-GCM, entry header) and decode (open, verify,
// decompress).
func BenchmarkCodec(b *testing.B) {
	var master [32]byte
	rand.Read(master[:])
	k := deriveKeys(master)
	data := make([]byte, 4<<20)
	rand.Read(data[2<<20:]) // half zeros, half random
	id := k.chunkID(data)
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			k.encodeEntry(id, data, uint64(i))
		}
	})
	entry := k.encodeEntry(id, data, 1)
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, len(entry))
		for i := 0; i < b.N; i++ {
			copy(buf, entry) // decodeEntry decrypts in place
			if _, err := k.decodeEntry(buf, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
