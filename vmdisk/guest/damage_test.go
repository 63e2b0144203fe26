package guest

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func zeroAt(t *testing.T, p string, off, n int64) {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	must(t, err)
	defer f.Close()
	_, err = f.WriteAt(make([]byte, n), off)
	must(t, err)
}

// TestGPTBackup: with the primary header destroyed, the backup at the last
// LBA gives the same partitions.
func TestGPTBackup(t *testing.T) {
	fsImages(t)
	disk := gptDisk(t)
	zeroAt(t, disk, 512, 512)
	r, size := openImage(t, disk)
	l, err := Probe(testCtx(t), r, size)
	must(t, err)
	if l.Err != nil || l.Table != TableGPT || len(l.Volumes) != 3 || l.Volumes[0].Type != TypeVFAT {
		t.Fatalf("layout %+v", l)
	}
}

// TestBrokenEBRChain: a destroyed second EBR leaves partitions 1 and 5 and a
// Layout error, not a failed Probe.
func TestBrokenEBRChain(t *testing.T) {
	fsImages(t)
	disk, parts := mbrDisk(t)
	zeroAt(t, disk, parts[6][0]-1<<20, 512) // the EBR before logical 6
	r, size := openImage(t, disk)
	l, err := Probe(testCtx(t), r, size)
	must(t, err)
	if !errors.Is(l.Err, ErrCorrupt) || l.Reason == "" {
		t.Errorf("layout error %v, reason %q", l.Err, l.Reason)
	}
	var names []string
	for _, v := range l.Volumes {
		names = append(names, v.Name+":"+v.Type)
	}
	if len(names) != 2 || names[0] != "1:ext4" || names[1] != "5:vfat" {
		t.Errorf("volumes %v, want 1:ext4 5:vfat", names)
	}
}

// TestVolumeBounds: a volume's reader ends at the partition's end even
// though the disk goes on.
func TestVolumeBounds(t *testing.T) {
	fsImages(t)
	disk := gptDisk(t)
	r, size := openImage(t, disk)
	l, err := Probe(testCtx(t), r, size)
	must(t, err)
	v := l.Volumes[0]
	buf := make([]byte, 4096)
	if n, err := v.Reader.ReadAt(buf, v.Size-100); n != 100 || err != io.EOF {
		t.Errorf("read across the end: %d, %v", n, err)
	}
	if n, err := v.Reader.ReadAt(buf, v.Size); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v", n, err)
	}
	if n, err := v.Reader.ReadAt(buf, -1); n != 0 || err == nil {
		t.Errorf("read at -1: %d, %v", n, err)
	}
}

// TestConcurrentReads reads random ranges of the large and the sparse file
// from 8 goroutines on every file system and checks the bytes.
func TestConcurrentReads(t *testing.T) {
	fsImages(t)
	for _, c := range []struct{ typ, img, src string }{
		{TypeExt4, fixtures.ext4, fixtures.src}, {TypeXFS, fixtures.xfs, fixtures.src},
		{TypeVFAT, fixtures.fat32, fixtures.fatSrc}, {TypeNTFS, fixtures.ntfs, fixtures.src},
	} {
		t.Run(c.typ, func(t *testing.T) {
			r, size := openImage(t, c.img)
			fsys, err := OpenFS(testCtx(t), r, size, c.typ)
			must(t, err)
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					name := []string{"big.bin", "sparse.bin"}[g%2]
					want, err := os.ReadFile(filepath.Join(c.src, name))
					if err != nil {
						t.Error(err)
						return
					}
					f, err := fsys.Open(name)
					if err != nil {
						t.Error(err)
						return
					}
					rnd := rand.New(rand.NewSource(int64(g)))
					for i := 0; i < 50; i++ {
						off := rnd.Int63n(int64(len(want)))
						buf := make([]byte, rnd.Intn(300<<10)+1)
						n, err := f.ReadAt(buf, off)
						end := min(off+int64(len(buf)), int64(len(want)))
						if int64(n) != end-off || !bytes.Equal(buf[:n], want[off:end]) || (err != nil && err != io.EOF) {
							t.Errorf("%s at %d+%d: %d bytes, %v", name, off, len(buf), n, err)
							return
						}
					}
				}(g)
			}
			wg.Wait()
		})
	}
}

// TestGPT4K: a GPT written for 4096-byte logical sectors (sgdisk on a loop
// device with -b 4096); LBAs count 4 KiB sectors.
func TestGPT4K(t *testing.T) {
	fsImages(t)
	disk := filepath.Join(t.TempDir(), "4k.img")
	sparseFile(t, disk, 64<<20)
	dev := strings.TrimSpace(run(t, "losetup", "-b", "4096", "-f", "--show", disk))
	attached := true
	t.Cleanup(func() {
		if attached {
			exec.Command("losetup", "-d", dev).Run()
		}
	})
	run(t, "sgdisk", "-n", "1:0:+21M", "-t", "1:0700", dev)
	run(t, "losetup", "-d", dev)
	attached = false
	// sgdisk's default alignment puts partition 1 at 1 MiB (LBA 256)
	copyInto(t, disk, fixtures.fat16, 1<<20)
	r, size := openImage(t, disk)
	l, err := Probe(testCtx(t), r, size)
	must(t, err)
	if l.Table != TableGPT || len(l.Volumes) != 1 || l.Volumes[0].Offset != 1<<20 || l.Volumes[0].Type != TypeVFAT {
		t.Fatalf("layout %+v", l)
	}
}
