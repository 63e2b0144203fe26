package fsmount

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vmdisk"
	"github.com/rewind-backup/rewind/vmdisk/guest"
)

const guestWholeDisk = guest.WholeDiskName

// Adapter tests: real data backed up by fileshare and vmdisk into a real
// block store, mounted through the public Mount.

func newStore(t testing.TB) *blockstore.Store {
	t.Helper()
	root := t.TempDir()
	var ts []blockstore.Target
	for i := range 3 {
		d, err := blockstore.NewDirTarget(filepath.Join(root, fmt.Sprintf("shard%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, d)
	}
	st, err := blockstore.Create(context.Background(), filepath.Join(root, "store"), []byte("test pass"), ts,
		blockstore.Options{Layout: blockstore.Layout{DataShards: 2, ParityShards: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func backupShare(t testing.TB, st *blockstore.Store, src string, prev blockstore.ID) blockstore.ID {
	t.Helper()
	ctx := context.Background()
	w := st.NewWriter()
	defer w.Close()
	res, err := fileshare.Backup(ctx, w, st, src, prev, fileshare.BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) > 0 {
		t.Logf("backup warnings: %v", res.Warnings)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return res.Root
}

func backupDisk(t testing.TB, st *blockstore.Store, img string) blockstore.ID {
	t.Helper()
	ctx := context.Background()
	w := st.NewWriter()
	defer w.Close()
	res, err := vmdisk.Backup(ctx, w, st, img, nil, vmdisk.BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := res.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return res.Root
}

// mountStore mounts cat over st with the public Mount.
func mountStore(t testing.TB, cat Catalog, st ChunkReader, opts Options) (*Mounted, string) {
	t.Helper()
	dir := t.TempDir()
	m, err := Mount(context.Background(), dir, cat, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
	})
	if err := waitMounted(dir, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return m, dir
}

func TestSharePointMatchesOriginal(t *testing.T) {
	st := newStore(t)
	orig := t.TempDir()
	makeSample(t, orig, true)
	first := backupShare(t, st, orig, blockstore.ID{})
	t1 := t0.Add(24 * time.Hour)
	if err := os.WriteFile(filepath.Join(orig, "sub", "new.txt"), []byte("second point\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := backupShare(t, st, orig, first)
	cat := &memCatalog{items: []ItemInfo{{Name: "share1"}}, points: map[string][]PointInfo{"share1": {
		{Time: t0, Kind: KindShare, Root: first}, {Time: t1, Kind: KindShare, Root: second}}}}
	m, dir := mountStore(t, cat, st, Options{})
	compareTrees(t, orig, filepath.Join(dir, "share1", PointName(t1)))
	compareTrees(t, orig, filepath.Join(dir, "share1", LatestName))
	if _, err := os.Stat(filepath.Join(dir, "share1", PointName(t0), "sub", "new.txt")); !os.IsNotExist(err) {
		t.Fatalf("first point shows a file made after it: %v", err)
	}
	if s := m.Cache().Stats(); s.Fetches == 0 || s.Bytes == 0 {
		t.Fatalf("chunk cache unused: %+v", s)
	}
}

func TestSharePointFSConformance(t *testing.T) {
	st := newStore(t)
	orig := t.TempDir()
	makeSample(t, orig, false)
	os.RemoveAll(filepath.Join(orig, "big")) // TestFSConformance covers big directories
	cat := &memCatalog{items: []ItemInfo{{Name: "s"}}, points: map[string][]PointInfo{"s": {
		{Time: t0, Kind: KindShare, Root: backupShare(t, st, orig, blockstore.ID{})}}}}
	_, dir := mountStore(t, cat, st, Options{})
	if err := fstest.TestFS(os.DirFS(filepath.Join(dir, "s", PointName(t0))), "a.txt", "sub/dir/b.bin", "sparse"); err != nil {
		t.Fatal(err)
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	hint := map[string]string{"mke2fs": "e2fsprogs", "sfdisk": "fdisk"}[name]
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: apt-get install %s", name, hint)
	}
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// makeDisk builds a 64 MiB MBR disk: partition 1 an ext4 made by mke2fs -d
// from src, partition 2 garbage.
func makeDisk(t testing.TB, img, src string) {
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(64 << 20)
	f.Close()
	script := filepath.Join(t.TempDir(), "layout")
	os.WriteFile(script, []byte("label: dos\nstart=2048, size=61440, type=83\nstart=63488, size=40960, type=83\n"), 0o644)
	run(t, "sh", "-c", "sfdisk -q "+img+" < "+script)
	run(t, "mke2fs", "-q", "-F", "-t", "ext4", "-I", "256", "-d", src, "-E", "offset=1048576,root_owner=0:0", img, "30M")
	garbage := randomBytes(1<<20, 3)
	g, _ := os.OpenFile(img, os.O_WRONLY, 0)
	g.WriteAt(garbage, 31<<20)
	g.Close()
}

func TestDiskPointExt4(t *testing.T) {
	st := newStore(t)
	src := t.TempDir()
	makeSample(t, src, false)
	img := filepath.Join(t.TempDir(), "disk.raw")
	makeDisk(t, img, src)
	cat := &memCatalog{items: []ItemInfo{{Name: "vm1"}}, points: map[string][]PointInfo{"vm1": {
		{Time: t0, Kind: KindDisk, Root: backupDisk(t, st, img)}}}}
	_, dir := mountStore(t, cat, st, Options{})
	point := filepath.Join(dir, "vm1", PointName(t0))
	raw, _ := os.ReadFile(img)
	sameBytes(t, filepath.Join(point, "disk.img"), raw)
	sameBytes(t, filepath.Join(point, "partitions", "1.img"), raw[1<<20:31<<20])
	sameBytes(t, filepath.Join(point, "partitions", "2.img"), raw[31<<20:51<<20])
	compareGuest(t, src, filepath.Join(point, "files", "1"))
	b, err := os.ReadFile(filepath.Join(point, "partitions", "README.txt"))
	if err != nil || !strings.Contains(string(b), "2.img: ") {
		t.Fatalf("README.txt for partition 2: %q %v", b, err)
	}
	t.Logf("partitions/README.txt:\n%s", b)
	if _, err := os.Stat(filepath.Join(point, "files", "2")); !os.IsNotExist(err) {
		t.Fatalf("files/2 of a garbage partition: %v", err)
	}
}

func TestGarbageDiskStaysUp(t *testing.T) {
	st := newStore(t)
	img := filepath.Join(t.TempDir(), "junk.raw")
	junk := randomBytes(12<<20+4096, 5)
	os.WriteFile(img, junk, 0o600)
	share := t.TempDir()
	os.WriteFile(filepath.Join(share, "f"), []byte("still here"), 0o644)
	var broken blockstore.ID
	broken[0] = 0xba
	cat := &memCatalog{items: []ItemInfo{{Name: "junk"}, {Name: "s"}}, points: map[string][]PointInfo{
		"junk": {{Time: t0, Kind: KindDisk, Root: backupDisk(t, st, img)}, {Time: t0.Add(time.Hour), Kind: KindDisk, Root: broken}},
		"s":    {{Time: t0, Kind: KindShare, Root: backupShare(t, st, share, blockstore.ID{})}}}}
	_, dir := mountStore(t, cat, st, Options{})
	point := filepath.Join(dir, "junk", PointName(t0))
	sameBytes(t, filepath.Join(point, "disk.img"), junk)
	b, err := os.ReadFile(filepath.Join(point, "README.txt"))
	if err != nil || len(b) == 0 {
		t.Fatalf("README.txt: %q %v", b, err)
	}
	t.Logf("README.txt:\n%s", b)
	if _, err := os.ReadDir(filepath.Join(dir, "junk", PointName(t0.Add(time.Hour)))); err == nil {
		t.Fatal("a point whose block map is missing listed without error")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "s", LatestName, "f")); err != nil || string(b) != "still here" {
		t.Fatalf("mount after bad points: %q %v", b, err)
	}
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(b)
	return b
}

func sameBytes(t testing.TB, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the original's %d", p, len(got), len(want))
	}
}

func TestDiskPointWholeDiskExt4(t *testing.T) {
	st := newStore(t)
	src := t.TempDir()
	makeSample(t, src, false)
	os.RemoveAll(filepath.Join(src, "big"))
	img := filepath.Join(t.TempDir(), "whole.raw")
	f, _ := os.Create(img)
	f.Truncate(24 << 20)
	f.Close()
	run(t, "mke2fs", "-q", "-F", "-t", "ext4", "-I", "256", "-d", src, "-E", "root_owner=0:0", img)
	cat := &memCatalog{items: []ItemInfo{{Name: "vm"}}, points: map[string][]PointInfo{"vm": {
		{Time: t0, Kind: KindDisk, Root: backupDisk(t, st, img)}}}}
	mnt := t.TempDir()
	openUp(t, mnt)
	m, err := Mount(t.Context(), mnt, cat, st, Options{AllowOther: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Unmount() })
	point := filepath.Join(mnt, "vm", PointName(t0))
	if got := names(t, point); strings.Join(got, " ") != "disk.img files" {
		t.Fatalf("whole-disk point lists %v", got)
	}
	files := filepath.Join(point, "files", guestWholeDisk)
	compareGuest(t, src, files)
	if err := fstest.TestFS(os.DirFS(files), "a.txt", "sub/dir/b.bin", "sparse", "hard1"); err != nil {
		t.Fatal(err)
	}
	if out, err := asNobody(t, filepath.Join(files, "a.txt")); err != nil || out != "hello, rewind\n" {
		t.Fatalf("nobody reading a guest 0644 file: %q %v", out, err)
	}
	for _, p := range []string{filepath.Join(files, "secret"), filepath.Join(point, "disk.img")} {
		if out, err := asNobody(t, p); err == nil || !strings.Contains(out, "Permission denied") {
			t.Fatalf("nobody read %s: %q %v", p, out, err)
		}
	}
}

func TestConcurrentReadersStore(t *testing.T) {
	st := newStore(t)
	src := t.TempDir()
	want := randomBytes(24<<20, 11)
	os.WriteFile(filepath.Join(src, "f"), want, 0o644)
	cat := &memCatalog{items: []ItemInfo{{Name: "s"}}, points: map[string][]PointInfo{"s": {
		{Time: t0, Kind: KindShare, Root: backupShare(t, st, src, blockstore.ID{})}}}}
	m, dir := mountStore(t, cat, st, Options{CacheBytes: 8 << 20})
	p := filepath.Join(dir, "s", LatestName, "f")
	errs := make(chan error, 6)
	for g := range 6 {
		go func() {
			f, err := os.Open(p)
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			buf := make([]byte, 128<<10)
			for i := range len(want) / len(buf) {
				off := int64((i+g*31)%(len(want)/len(buf))) * int64(len(buf))
				if _, err := f.ReadAt(buf, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf, want[off:off+int64(len(buf))]) {
					errs <- fmt.Errorf("reader %d: bytes at %d differ", g, off)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := m.Cache().Stats()
	if s.Bytes > 8<<20 {
		t.Fatalf("cache over its cap: %+v", s)
	}
	t.Logf("chunk cache: %+v", s)
}
