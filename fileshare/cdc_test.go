package fileshare

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"testing"
)

func chunkAll(t testing.TB, data []byte) [][32]byte {
	c := newChunker(nil)
	c.reset(bytes.NewReader(data))
	var ids [][32]byte
	total := 0
	for {
		b, err := c.next()
		if err == io.EOF {
			break
		}
		must(t, err)
		if len(b) > MaxChunk || (len(b) < MinChunk && total+len(b) != len(data)) {
			t.Fatalf("chunk of %d bytes at %d outside [%d, %d]", len(b), total, MinChunk, MaxChunk)
		}
		total += len(b)
		ids = append(ids, sha256.Sum256(b))
	}
	if total != len(data) {
		t.Fatalf("chunks cover %d of %d bytes", total, len(data))
	}
	return ids
}

func TestCDCInsertChangesFewChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	data := randData(r, 20<<20)
	before := chunkAll(t, data)
	if n := len(before); n < 10 || n > 40 {
		t.Errorf("%d chunks for 20 MiB, want about 20 (average ~1 MiB)", n)
	}
	for _, at := range []int{0, 5000, 300 << 10} {
		edited := append(append(append([]byte{}, data[:at]...), []byte("INSERTED 100 BYTES OF NEW TEXT.....")...), data[at:]...)
		after := chunkAll(t, edited)
		old := map[[32]byte]bool{}
		for _, id := range before {
			old[id] = true
		}
		fresh := 0
		for _, id := range after {
			if !old[id] {
				fresh++
			}
		}
		if fresh > 2 {
			t.Errorf("insert at %d: %d of %d chunks changed, want 1-2", at, fresh, len(after))
		}
	}
}

func TestCDCBounds(t *testing.T) {
	zeros := chunkAll(t, make([]byte, 3*MaxChunk+5)) // no cut point: forced at MaxChunk
	if len(zeros) != 4 {
		t.Fatalf("all-zero input: %d chunks, want 4", len(zeros))
	}
	chunkAll(t, make([]byte, MinChunk-1))
	chunkAll(t, randData(rand.New(rand.NewPCG(5, 6)), MaxChunk*2+MinChunk/2))
}

// TestCDCGolden pins the cut points: the gear table and masks are part of
// the format (a change would break dedupe against every older point).
func TestCDCGolden(t *testing.T) {
	data := randData(rand.New(rand.NewPCG(42, 42)), 8<<20)
	var cuts []int
	for off := 0; off < len(data); {
		n := cut(data[off:])
		off += n
		cuts = append(cuts, off)
	}
	want := []int{1093832, 2094710, 3447902, 4669025, 5390705, 6450080, 7523009, 8388608}
	if len(cuts) != len(want) {
		t.Fatalf("cuts %v, want %v", cuts, want)
	}
	for i := range want {
		if cuts[i] != want[i] {
			t.Fatalf("cuts %v, want %v", cuts, want)
		}
	}
}
