package fsmount

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range ents {
		ns = append(ns, e.Name())
	}
	return ns
}

func smallTree(content string) *memDir {
	d := newMemDir(Attr{Mode: unix.S_IFDIR | 0o755, Nlink: 2, ID: 1})
	d.add("f", &memFile{attr: Attr{Mode: unix.S_IFREG | 0o644, Size: int64(len(content)), ID: 2}, data: []byte(content)})
	return d
}

func TestCatalogLayout(t *testing.T) {
	f := newFixture()
	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	f.add("web", t1, smallTree("one"))
	f.add("web", t0, smallTree("zero")) // out of order on purpose
	f.add("db", t2, smallTree("db"))
	f.add("db", t2.Add(300*time.Millisecond), smallTree("db2")) // same second
	_, dir := mountT(t, f.cat, f.open, Options{})
	if got := names(t, dir); !slices.Equal(got, []string{"db", "web"}) {
		t.Fatalf("root lists %v", got)
	}
	if got := names(t, filepath.Join(dir, "web")); !slices.Equal(got, []string{PointName(t0), PointName(t1), LatestName}) {
		t.Fatalf("web lists %v", got)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "web", LatestName)); l != PointName(t1) {
		t.Fatalf("latest -> %q", l)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "web", LatestName, "f")); string(b) != "one" {
		t.Fatalf("latest/f = %q", b)
	}
	db := names(t, filepath.Join(dir, "db"))
	if len(db) != 3 || db[0] == db[1] {
		t.Fatalf("points in one second: %v", db)
	}
	// A new point appears once the kernel's one-second cache expires.
	t3 := t2.Add(time.Hour)
	f.add("web", t3, smallTree("three"))
	time.Sleep(1100 * time.Millisecond)
	if b, err := os.ReadFile(filepath.Join(dir, "web", LatestName, "f")); string(b) != "three" {
		t.Fatalf("latest/f after a new backup = %q %v", b, err)
	}
	var a, b unix.Stat_t
	unix.Stat(filepath.Join(dir, "web", PointName(t0), "f"), &a)
	unix.Stat(filepath.Join(dir, "web", PointName(t1), "f"), &b)
	if a.Ino == b.Ino {
		t.Fatal("the same node id in two points shares an inode number")
	}
}

func TestFilters(t *testing.T) {
	f := newFixture()
	t1 := t0.Add(time.Hour)
	f.add("web", t0, smallTree("zero"))
	f.add("web", t1, smallTree("one"))
	f.add("db", t0, smallTree("db"))
	_, dir := mountT(t, f.cat, f.open, Options{Item: "web", Point: PointName(t0)})
	if got := names(t, dir); !slices.Equal(got, []string{"web"}) {
		t.Fatalf("root lists %v", got)
	}
	if got := names(t, filepath.Join(dir, "web")); !slices.Equal(got, []string{PointName(t0), LatestName}) {
		t.Fatalf("web lists %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "db")); !os.IsNotExist(err) {
		t.Fatalf("filtered item: %v", err)
	}
	_, dir2 := mountT(t, f.cat, f.open, Options{Point: LatestName})
	if got := names(t, filepath.Join(dir2, "web")); !slices.Equal(got, []string{PointName(t1), LatestName}) {
		t.Fatalf("latest-only lists %v", got)
	}
	if _, err := mount(t.Context(), t.TempDir(), f.cat, f.open, Options{Point: "yesterday"}); err == nil {
		t.Fatal("a bad point filter mounted")
	}
}

func TestCatalogErrorsAreEIO(t *testing.T) {
	f := newFixture()
	f.add("web", t0, smallTree("zero"))
	f.add("bad", t0, nil) // opens with an error
	_, dir := mountT(t, f.cat, f.open, Options{})
	if _, err := os.ReadDir(filepath.Join(dir, "bad", PointName(t0))); !errors.Is(err, unix.EIO) {
		t.Fatalf("unopenable point: %v, want EIO", err)
	}
	f.cat.fail(errors.New("catalog down"))
	time.Sleep(1100 * time.Millisecond)
	if _, err := os.ReadDir(dir); !errors.Is(err, unix.EIO) {
		t.Fatalf("catalog failure: %v, want EIO", err)
	}
	f.cat.fail(nil)
	time.Sleep(1100 * time.Millisecond)
	if b, err := os.ReadFile(filepath.Join(dir, "web", LatestName, "f")); string(b) != "zero" {
		t.Fatalf("after the catalog recovered: %q %v", b, err)
	}
}

// slowChunks counts fetches and takes a while per chunk.
type slowChunks struct {
	n    atomic.Int64
	size int
}

func (s *slowChunks) Get(ctx context.Context, id blockstore.ID) ([]byte, error) {
	s.n.Add(1)
	time.Sleep(20 * time.Millisecond)
	b := make([]byte, s.size)
	b[0] = id[0]
	return b, nil
}

func TestChunkCacheSingleFlight(t *testing.T) {
	src := &slowChunks{size: 1 << 20}
	c := NewChunkCache(src, 4<<20)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := c.Get(context.Background(), blockstore.ID{7})
			if err != nil || b[0] != 7 {
				t.Error(b[:1], err)
			}
		}()
	}
	wg.Wait()
	if n := src.n.Load(); n != 1 {
		t.Fatalf("32 concurrent readers fetched %d times", n)
	}
	for i := range 10 {
		c.Get(context.Background(), blockstore.ID{byte(i + 10)})
	}
	if s := c.Stats(); s.Bytes > 4<<20 {
		t.Fatalf("cache holds %d bytes over its 4 MiB cap", s.Bytes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, blockstore.ID{99}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Get: %v", err)
	}
}

type panicky struct{ memDir }

func (p *panicky) Lookup(ctx context.Context, name string) (Node, error) {
	if name == "boom" {
		panic("decoder bug on hostile data")
	}
	return p.memDir.Lookup(ctx, name)
}

type panicReader struct{}

func (panicReader) ReadAt([]byte, int64) (int, error) { panic("reader bug on hostile data") }

type panicFile struct{ memFile }

func (panicFile) Open(context.Context) (Reader, error) { return panicReader{}, nil }

func TestPanicsBecomeEIO(t *testing.T) {
	d := &panicky{*smallTree("ok")}
	d.add("bad", &panicFile{memFile{attr: Attr{Mode: unix.S_IFREG | 0o644, Size: 10 << 20, ID: 3}}})
	f := newFixture()
	f.add("p", t0, d)
	_, dir := mountT(t, f.cat, f.open, Options{})
	point := filepath.Join(dir, "p", PointName(t0))
	if _, err := os.Stat(filepath.Join(point, "boom")); !errors.Is(err, unix.EIO) {
		t.Fatalf("panicking lookup: %v", err)
	}
	if _, err := os.ReadFile(filepath.Join(point, "bad")); !errors.Is(err, unix.EIO) {
		t.Fatalf("panicking read: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(point, "f")); string(b) != "ok" {
		t.Fatalf("mount after panics: %q %v", b, err)
	}
}
