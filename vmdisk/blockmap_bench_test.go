package vmdisk

import (
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// BenchmarkBlockMapUpdate is the block map hot path of an incremental: decode
// a full page of the previous map, replace 1% of its entries, encode it again.
func BenchmarkBlockMapUpdate(b *testing.B) {
	ids := make([]blockstore.ID, PageEntries)
	for i := range ids {
		ids[i][0], ids[i][1], ids[i][31] = byte(i), byte(i>>8), 1
	}
	page := encodePage(ids)
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := decodePage(page, PageEntries)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < len(got); j += 100 {
			got[j][2]++
		}
		page = encodePage(got)
	}
}
