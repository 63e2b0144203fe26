package fileshare

import (
	"bytes"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

func seedObjects() [][]byte {
	id := blockstore.ID{1, 2, 3}
	file := &Node{Name: "f\xff\n", Type: TypeFile, Mode: 0o4755, Uid: 1, Gid: 2, User: "u", Group: "g", Size: 3 << 20,
		Mtime: time.Unix(1, 2), Nlink: 2, LinkPath: "a/b", Xattrs: []Xattr{{"user.a", []byte{0}}, {"user.b", nil}},
		extents: []Extent{{Off: 0, Len: 1 << 20, ID: id}, {Off: 2 << 20, Len: 1 << 20, ID: id}}}
	small := &Node{Name: "s", Type: TypeFile, Mode: 0o644, Size: 3, inline: []byte("abc")}
	big := &Node{Name: "t", Type: TypeFile, Size: 1 << 40, lists: []listRef{{First: 0, Count: 3, ID: id}, {First: 1 << 30, Count: 1, ID: id}}}
	dir := &Node{Name: "d", Type: TypeDir, Mode: 0o755, subtree: id}
	sym := &Node{Name: "l", Type: TypeSymlink, Mode: 0o777, Target: "/etc/passwd"}
	dev := &Node{Name: "n", Type: TypeChar, Rdev: 259}
	// format v2: times outside 1677..2262 and sockets
	late := &Node{Name: "p", Type: TypeFifo, Mode: 0o600, Nlink: 2, dev: 7, ino: 9,
		Mtime: time.Date(2300, 1, 1, 0, 0, 0, 123456789, time.UTC), Atime: time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC),
		Ctime: time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)}
	sock := &Node{Name: "q", Type: TypeSocket, Mode: 0o755}
	return [][]byte{
		encodeLeaf([]*Node{dir, file, sym, dev, late, sock, small, big}),
		encodeLeaf(nil),
		encodeIndex([]pageRef{{First: "a", Count: 10, ID: id}, {First: "m", Count: 1024, ID: id}}),
		encodeRoot(&Node{Type: TypeDir, subtree: id}),
		encodeExtentList([]Extent{{Off: 5, Len: 10, ID: id}, {Off: 100, Len: 1, ID: id}}),
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder of stored objects: they
// must never panic, and what decodes must re-encode to something that
// decodes the same.
func FuzzDecode(f *testing.F) {
	for _, s := range seedObjects() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if o, err := decodeDir(b); err == nil {
			var again []byte
			if o.pages != nil {
				again = encodeIndex(o.pages)
			} else {
				again = encodeLeaf(o.entries)
			}
			o2, err := decodeDir(again)
			if err != nil {
				t.Fatalf("re-encoded directory does not decode: %v", err)
			}
			if o2.pages == nil && !bytes.Equal(encodeLeaf(o2.entries), again) {
				t.Fatal("directory encoding is not stable")
			}
		}
		if n, err := decodeRoot(b); err == nil {
			if _, err := decodeRoot(encodeRoot(n)); err != nil {
				t.Fatalf("re-encoded root does not decode: %v", err)
			}
		}
		if xs, err := decodeExtentList(b, 1<<50); err == nil {
			if _, err := decodeExtentList(encodeExtentList(xs), 1<<50); err != nil {
				t.Fatalf("re-encoded extent list does not decode: %v", err)
			}
		}
	})
}

func TestSeedsDecode(t *testing.T) {
	for i, s := range seedObjects() {
		_, e1 := decodeDir(s)
		_, e2 := decodeRoot(s)
		_, e3 := decodeExtentList(s, 1<<50)
		if e1 != nil && e2 != nil && e3 != nil {
			t.Errorf("seed %d decodes nowhere: %v / %v / %v", i, e1, e2, e3)
		}
	}
}
