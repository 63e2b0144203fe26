package fileshare

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// encodeEntryV1 writes an entry the way format v1 did: times as one zig-zag
// varint of nanoseconds each. Only what the test needs (no data refs).
func encodeEntryV1(e *enc, n *Node) {
	e.str(n.Name)
	e.byte1(byte(n.Type))
	e.uv(uint64(n.Mode))
	e.uv(uint64(n.Uid))
	e.uv(uint64(n.Gid))
	e.str(n.User)
	e.str(n.Group)
	e.uv(uint64(n.Size))
	e.sv(n.Mtime.UnixNano())
	e.sv(n.Ctime.UnixNano())
	e.sv(n.Atime.UnixNano())
	e.uv(uint64(n.Nlink))
	e.uv(n.dev)
	e.uv(n.ino)
	e.uv(n.Rdev)
	e.str(n.Target)
	e.str(n.LinkPath)
	e.uv(0) // xattrs
	if n.inline != nil {
		e.byte1(dataInline)
		e.bytes(n.inline)
	} else {
		e.byte1(dataNone)
	}
	if n.Type == TypeDir {
		e.id(n.subtree)
	}
}

// TestRestoreV1Point: a point written in format v1 (a hardlinked FIFO pair
// and a file, times in nanoseconds) still restores, its times exact and the
// FIFOs linked (grouped by their recorded dev/ino).
func TestRestoreV1Point(t *testing.T) {
	s := newStore(t)
	mt := time.Unix(1_000_000_000, 123456789)
	leaf := enc{b: append([]byte(magicDir), formatV1, pageLeaf)}
	leaf.uv(3)
	encodeEntryV1(&leaf, &Node{Name: "f", Type: TypeFile, Mode: 0o640, Size: 2, Nlink: 1, Mtime: mt, Atime: mt, inline: []byte("hi"), dev: 1, ino: 5})
	encodeEntryV1(&leaf, &Node{Name: "p", Type: TypeFifo, Mode: 0o600, Nlink: 2, Mtime: mt, Atime: mt, dev: 1, ino: 6})
	encodeEntryV1(&leaf, &Node{Name: "q", Type: TypeFifo, Mode: 0o600, Nlink: 2, Mtime: mt, Atime: mt, dev: 1, ino: 6})
	sub := putRaw(t, s, leaf.b)[0]
	root := enc{b: append([]byte(magicRoot), formatV1)}
	encodeEntryV1(&root, &Node{Type: TypeDir, Mode: 0o755, Mtime: mt, Atime: mt, subtree: sub})
	id := putRaw(t, s, root.b)[0]

	dst := filepath.Join(t.TempDir(), "dst")
	res, err := Restore(context.Background(), s, id, dst, RestoreOptions{})
	must(t, err)
	if len(res.Warnings) > 0 {
		t.Fatalf("warnings: %q", res.Warnings)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "f")); err != nil || string(b) != "hi" {
		t.Fatalf("f: %q %v", b, err)
	}
	var p, q unix.Stat_t
	must(t, unix.Lstat(filepath.Join(dst, "p"), &p))
	must(t, unix.Lstat(filepath.Join(dst, "q"), &q))
	if p.Ino != q.Ino || p.Nlink != 2 || !time.Unix(p.Mtim.Unix()).Equal(mt) {
		t.Errorf("p/q: inodes %d %d nlink %d mtime %v", p.Ino, q.Ino, p.Nlink, time.Unix(p.Mtim.Unix()))
	}
}
