package guest

import (
	"bytes"
	"io"
	"testing"
)

// TestBlockFileHoles reads across holes, an unwritten extent, a far-away
// extent (corrupt: its logical block times the block size overflows) and the
// end of the file.
func TestBlockFileHoles(t *testing.T) {
	vol := bytes.Repeat([]byte{7}, 64<<10)
	f := &blockFile{r: newSection(bytes.NewReader(vol), 0, int64(len(vol))), bs: 1024, size: 10 << 10, exts: []extent{
		{lblk: 2, pblk: 5, n: 2}, {lblk: 5, pblk: 9, n: 1, unwritten: true}, {lblk: 1 << 54, pblk: 1, n: 1},
	}}
	got := make([]byte, 12<<10)
	n, err := f.ReadAt(got, 0)
	if n != 10<<10 || err != io.EOF {
		t.Fatalf("read %d, %v", n, err)
	}
	want := make([]byte, 10<<10)
	copy(want[2<<10:4<<10], bytes.Repeat([]byte{7}, 2<<10))
	if !bytes.Equal(got[:n], want) {
		t.Errorf("content differs")
	}
	if n, err := f.ReadAt(got[:100], 2<<10-50); n != 100 || err != nil || !bytes.Equal(got[:100], want[2<<10-50:2<<10+50]) {
		t.Errorf("read across hole edge: %d %v", n, err)
	}
}
