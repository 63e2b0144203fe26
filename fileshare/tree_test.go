package fileshare

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

func TestTreeBigDirectoryPages(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	var names []string
	for i := 0; i < 5000; i++ {
		names = append(names, "entry-"+itoa(i*7919%100003))
	}
	for _, n := range names {
		writeFile(t, filepath.Join(src, "big", n), nil, 0o644)
	}
	sort.Strings(names)
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	tr, err := OpenTree(ctx, s, res.Root)
	must(t, err)
	dir, err := tr.Lookup(ctx, "/big")
	must(t, err)
	o, err := tr.dir(ctx, dir.subtree)
	must(t, err)
	if len(o.pages) < 5 {
		t.Fatalf("5000 entries in %d pages, want an index of several", len(o.pages))
	}
	var got []string
	must(t, tr.ReadDir(ctx, dir, "", func(n *Node) error { got = append(got, n.Name); return nil }))
	if len(got) != len(names) || !sort.StringsAreSorted(got) {
		t.Fatalf("ReadDir gave %d names (sorted %v), want %d", len(got), sort.StringsAreSorted(got), len(names))
	}
	var rest []string
	must(t, tr.ReadDir(ctx, dir, names[2999], func(n *Node) error { rest = append(rest, n.Name); return nil }))
	if len(rest) != 2000 || rest[0] != names[3000] {
		t.Fatalf("ReadDir after %q: %d names starting %q", names[2999], len(rest), rest[0])
	}
	for _, i := range []int{0, 1, 1023, 1024, 2500, 4999} {
		if n, err := tr.Child(ctx, dir, names[i]); err != nil || n.Name != names[i] {
			t.Fatalf("Child(%q): %v", names[i], err)
		}
	}
	if _, err := tr.Lookup(ctx, "big/entry-zzz"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing entry: %v", err)
	}
	// one insert changes few pages (content-defined page cuts)
	writeFile(t, filepath.Join(src, "big", "entry-25000x"), nil, 0o644)
	inc := backupTo(t, s, src, res.Root, BackupOptions{})
	if inc.BytesNew > 3*pageMaxBytes/8 {
		t.Errorf("one new entry in a 5000-entry directory stored %d new bytes", inc.BytesNew)
	}
}

func TestFileReaderSparseAndLists(t *testing.T) {
	defer func(a, b int) { inlineExtents, listExtents = a, b }(inlineExtents, listExtents)
	inlineExtents, listExtents = 8, 50 // 300 regions → 6 extent lists
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	p := filepath.Join(src, "holes")
	writeFile(t, p, nil, 0o644)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	must(t, err)
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 300; i++ {
		_, err := f.WriteAt(randData(r, 4096+i), int64(i)<<20+int64(i%3)*8192)
		must(t, err)
	}
	must(t, f.Truncate(301<<20))
	must(t, f.Close())
	must(t, os.Link(p, filepath.Join(src, "holes-link")))
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	tr, err := OpenTree(ctx, s, res.Root)
	must(t, err)
	n, err := tr.Lookup(ctx, "holes")
	must(t, err)
	if len(n.lists) != 6 {
		t.Fatalf("%d extent lists, want 6", len(n.lists))
	}
	l, err := tr.Lookup(ctx, "holes-link")
	must(t, err)
	if l.Ino() != n.Ino() || l.LinkPath != "holes" {
		t.Fatalf("hardlink: ino %d vs %d, link path %q", l.Ino(), n.Ino(), l.LinkPath)
	}
	fr, err := tr.Open(ctx, n)
	must(t, err)
	orig, err := os.Open(p)
	must(t, err)
	defer orig.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rr := rand.New(rand.NewPCG(seed, 1))
			for i := 0; i < 200; i++ {
				off := rr.Int64N(fr.Size() + 10)
				a := make([]byte, 1+rr.IntN(20000))
				na, ea := fr.ReadAt(a, off)
				b := make([]byte, len(a))
				nb, eb := orig.ReadAt(b, off)
				if na != nb || (ea == io.EOF) != (eb == io.EOF) || string(a[:na]) != string(b[:nb]) {
					t.Errorf("ReadAt(%d, %d): %d %v vs file %d %v", off, len(a), na, ea, nb, eb)
					return
				}
			}
		}(uint64(g))
	}
	wg.Wait()
	for _, off := range []int64{0, 4095, 4096, 5 << 20, 5<<20 + 8192, 200<<20 + 1, 299 << 20, 300 << 20, 301<<20 - 1} {
		wd, _ := unix.Seek(int(orig.Fd()), off, unix.SEEK_DATA)
		wh, _ := unix.Seek(int(orig.Fd()), off, unix.SEEK_HOLE)
		if wd < 0 || wd > fr.Size() {
			wd = fr.Size()
		}
		gd, err := fr.SeekData(off)
		must(t, err)
		gh, err := fr.SeekHole(off)
		must(t, err)
		// the kernel reports data in whole blocks; ours is exact
		if gd > wd+4096 || gd < wd || gh < wh-4096 || gh > wh {
			t.Errorf("offset %d: SeekData %d (kernel %d), SeekHole %d (kernel %d)", off, gd, wd, gh, wh)
		}
	}
	// Refs names exactly what the backup stored
	var refs []blockstore.ID
	must(t, Refs(ctx, s, res.Root, func(id blockstore.ID) error { refs = append(refs, id); return nil }))
	for _, id := range refs {
		if ok, err := s.Has(ctx, id); err != nil || !ok {
			t.Fatalf("Refs yielded %s which the store does not have", id)
		}
	}
	if len(refs) < 300+6+2 {
		t.Fatalf("Refs yielded %d ids, want at least 308", len(refs))
	}
}

// TestRefsCoversEverythingStored: GC marks from Refs, so every chunk a
// backup puts must be among a point's refs.
func TestRefsCoversEverythingStored(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	buildFullTree(t, src)
	s := newStore(t)
	w := s.NewWriter()
	defer w.Close()
	rec := &recordingWriter{w: w, ids: map[blockstore.ID]bool{}}
	res, err := Backup(ctx, rec, s, src, blockstore.ID{}, BackupOptions{})
	must(t, err)
	must(t, w.Flush(ctx))
	refs := map[blockstore.ID]bool{}
	must(t, Refs(ctx, s, res.Root, func(id blockstore.ID) error { refs[id] = true; return nil }))
	for id := range rec.ids {
		if !refs[id] {
			t.Fatalf("chunk %s was stored but Refs does not name it", id)
		}
	}
	for id := range refs {
		if !rec.ids[id] {
			t.Fatalf("Refs names %s which the backup never stored", id)
		}
	}
}
