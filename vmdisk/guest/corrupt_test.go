package guest

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// flipped overlays XOR masks on a ReaderAt.
type flipped struct {
	r     io.ReaderAt
	flips map[int64]byte
}

func (f *flipped) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.r.ReadAt(p, off)
	for o, x := range f.flips {
		if o >= off && o < off+int64(n) {
			p[o-off] ^= x
		}
	}
	return n, err
}

// region is a byte range where metadata lives in a test image.
type region struct{ off, n int64 }

type corruptCase struct {
	name    string
	path    string
	fstype  string // "" for a whole disk (Probe only)
	regions []region
}

// exercise probes and walks a possibly corrupt image the way the mount and
// a copy-out would: every volume, every directory (bounded), a read at the
// start and end of every file, every symlink.
func exercise(ctx context.Context, r io.ReaderAt, size int64, fstype string) {
	if fstype == "" {
		l, err := Probe(ctx, r, size)
		if err != nil {
			return
		}
		for _, v := range l.Volumes {
			if v.Readable() {
				exercise(ctx, v.Reader, v.Size, v.Type)
			}
		}
		return
	}
	fsys, err := OpenFS(ctx, r, size, fstype)
	if err != nil {
		exStats.openErr.Add(1)
		return
	}
	exStats.opened.Add(1)
	budget := 3000
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		ents, err := fsys.ReadDir(dir)
		if err != nil || depth > 12 {
			return
		}
		for _, e := range ents {
			if budget--; budget < 0 {
				return
			}
			p := path.Join(dir, e.Name)
			fsys.Stat(p)
			fsys.Xattrs(p)
			switch {
			case e.Mode.IsDir():
				walk(p, depth+1)
			case e.Mode&fs.ModeSymlink != 0:
				fsys.Readlink(p)
			case e.Mode.IsRegular():
				if f, err := fsys.Open(p); err == nil {
					exStats.files.Add(1)
					checkDataMap(f)
					buf := make([]byte, 64<<10)
					f.ReadAt(buf, 0)
					f.ReadAt(buf, max(f.Size()-int64(len(buf)), 0))
				}
			}
		}
	}
	walk(".", 0)
	fs.WalkDir(AsIOFS(fsys), "dir", func(string, fs.DirEntry, error) error {
		if budget--; budget < 0 {
			return fs.SkipAll
		}
		return nil
	})
}

// TestCorruptImages flips random bytes in the metadata of real images (200
// seeds) and checks that probing and reading never panics or hangs.
func TestCorruptImages(t *testing.T) {
	fsImages(t)
	old := libTimeout
	libTimeout = 3 * time.Second
	t.Cleanup(func() { libTimeout = old })
	cases := corruptCases(t)
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	start := guardTimeouts.Load()
	for seed := 0; seed < seeds; seed++ {
		c := cases[seed%len(cases)]
		f, size := openImage(t, c.path)
		rnd := rand.New(rand.NewSource(int64(seed)))
		fl := &flipped{r: f, flips: map[int64]byte{}}
		for i := 1 + rnd.Intn(24); i > 0; i-- {
			reg := c.regions[rnd.Intn(len(c.regions))]
			fl.flips[reg.off+rnd.Int63n(reg.n)] = byte(1 + rnd.Intn(255))
		}
		done := make(chan any, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		go func() {
			defer func() { done <- recover() }()
			exercise(ctx, fl, size, c.fstype)
			exercise(ctx, fl, size, "") // and as a whole disk
		}()
		select {
		case p := <-done:
			if p != nil {
				t.Errorf("seed %d (%s): panic: %v", seed, c.name, p)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("seed %d (%s): hang", seed, c.name)
		}
		cancel()
	}
	t.Logf("file systems opened %d, refused %d; files opened %d", exStats.opened.Load(), exStats.openErr.Load(), exStats.files.Load())
	if n := guardTimeouts.Load() - start; n > 0 {
		t.Errorf("%d library calls timed out", n)
	}
}

func corruptCases(t *testing.T) []corruptCase {
	fat := func(p string) []region {
		b := readHead(t, p, 512)
		bp, err := parseBPB(b, 1<<40)
		must(t, err)
		return []region{{0, 512}, {bp.fatStart, min(bp.fatSize, 64<<10)}, {bp.rootStart, bp.dataStart - bp.rootStart + 256<<10}}
	}
	ntfsRegions := func(p string) []region {
		b := readHead(t, p, 512)
		cluster := int64(binary.LittleEndian.Uint16(b[11:])) * int64(b[13])
		mft := int64(binary.LittleEndian.Uint64(b[0x30:])) * cluster
		return []region{{0, 512}, {mft, 128 << 10}}
	}
	gpt := gptDisk(t)
	mbr, parts := mbrDisk(t)
	ebr, ebr2 := parts[5][0]-1<<20, parts[6][0]-1<<20 // sfdisk leaves 1 MiB before each logical
	return []corruptCase{
		{"ext4", fixtures.ext4, TypeExt4, []region{{1024, 1024}, {4096, 4096}, {0, 4 << 20}}},
		{"xfs", fixtures.xfs, TypeXFS, []region{{0, 512}, {0, 1 << 20}}},
		{"fat32", fixtures.fat32, TypeVFAT, fat(fixtures.fat32)},
		{"fat16", fixtures.fat16, TypeVFAT, fat(fixtures.fat16)},
		{"ntfs", fixtures.ntfs, TypeNTFS, ntfsRegions(fixtures.ntfs)},
		{"gpt", gpt, "", []region{{0, 34 * 512}, {fileSize(t, gpt) - 33*512, 33 * 512}}},
		{"mbr-logical", mbr, "", []region{{0, 512}, {ebr, 512}, {ebr2 - 1<<20, 1<<20 + 512}}},
	}
}

func readHead(t *testing.T, p string, n int) []byte {
	f, err := os.Open(p)
	must(t, err)
	defer f.Close()
	b := make([]byte, n)
	_, err = io.ReadFull(f, b)
	must(t, err)
	return b
}

func fileSize(t *testing.T, p string) int64 {
	fi, err := os.Stat(p)
	must(t, err)
	return fi.Size()
}

// gptDisk and mbrDisk make small partitioned disks (tables only plus one
// FAT16 volume) for the corruption test.
func gptDisk(t *testing.T) string {
	disk := filepath.Join(t.TempDir(), "gpt.img")
	sparseFile(t, disk, 64<<20)
	run(t, "sgdisk", "-n", "1:2048:+21M", "-n", "2:0:+4M", "-n", "3:0:+4M", disk)
	copyInto(t, disk, fixtures.fat16, 1<<20)
	return disk
}

func mbrDisk(t *testing.T) (string, map[int][2]int64) {
	disk := filepath.Join(t.TempDir(), "mbr.img")
	sparseFile(t, disk, 96<<20)
	runStdin(t, "label: dos\nstart=2048, size=32MiB, type=83\ntype=5\nsize=21MiB, type=c\nsize=4MiB, type=83\nsize=4MiB, type=83\n", "sfdisk", "-q", disk)
	parts := sfdiskParts(t, disk)
	copyInto(t, disk, fixtures.ext4, parts[1][0])
	copyInto(t, disk, fixtures.fat16, parts[5][0])
	return disk, parts
}

var exStats struct{ opened, openErr, files atomic.Int64 }

// checkDataMap panics when a file's data map is unsorted, overlapping or
// outside the file: the fuzz targets turn that into a failure.
func checkDataMap(f File) {
	var end int64
	for _, r := range f.Data() {
		if r.Off < end || r.Len <= 0 || r.Off+r.Len > f.Size() {
			panic(fmt.Sprintf("bad data map %v for a %d-byte file", f.Data(), f.Size()))
		}
		end = r.Off + r.Len
	}
}
