package fileshare

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// BenchmarkChunker is the content-defined chunking hot path alone: cut
// points over 64 MiB of random data through the streaming chunker.
func BenchmarkChunker(b *testing.B) {
	data := make([]byte, 64<<20)
	r := rand.New(rand.NewPCG(7, 9))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	c := newChunker(nil)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.reset(bytes.NewReader(data))
		for {
			if _, err := c.next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
