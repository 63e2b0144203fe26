package guest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// want describes one expected volume and the tree its files must match.
type want struct {
	name, typ string
	img, src  string // image written into the partition, reference tree
	opts      cmpOpts
}

func extWant(n string) want {
	return want{n, TypeExt4, fixtures.ext4, fixtures.src, cmpOpts{modes: true, symlinks: true}}
}
func xfsWant(n string) want {
	return want{n, TypeXFS, fixtures.xfs, fixtures.src, cmpOpts{modes: true, symlinks: true, mtime: -1}}
}
func fatWant(n, img string) want {
	return want{n, TypeVFAT, img, fixtures.fatSrc, cmpOpts{mtime: 2 * time.Second}}
}
func ntfsWant(n string) want {
	return want{n, TypeNTFS, fixtures.ntfs, fixtures.src, cmpOpts{symlinks: true, mtime: time.Microsecond}}
}

// checkLayout probes disk and checks every expected volume's type, path and
// files.
func checkLayout(t *testing.T, disk, table string, wants []want) *Layout {
	t.Helper()
	r, size := openImage(t, disk)
	l, err := Probe(testCtx(t), r, size)
	if err != nil {
		t.Fatal(err)
	}
	if l.Err != nil {
		t.Errorf("layout error: %v", l.Err)
	}
	if l.Table != table {
		t.Errorf("table %q, want %q", l.Table, table)
	}
	byName := map[string]*Volume{}
	var names []string
	for i := range l.Volumes {
		v := &l.Volumes[i]
		byName[v.Name] = v
		names = append(names, v.Name+":"+v.Type)
	}
	t.Logf("volumes: %s", strings.Join(names, " "))
	for _, w := range wants {
		v := byName[w.name]
		if v == nil {
			t.Errorf("volume %s missing", w.name)
			continue
		}
		if v.Type != w.typ {
			t.Errorf("volume %s: type %s, want %s (%s)", w.name, v.Type, w.typ, v.Reason)
			continue
		}
		if w.img == "" {
			if v.Reason == "" || v.FilesDir != "" {
				t.Errorf("volume %s: want a reason and no files, got %q %q", w.name, v.Reason, v.FilesDir)
			}
			continue
		}
		if v.FilesDir != "files/"+w.name {
			t.Errorf("volume %s: files dir %q", w.name, v.FilesDir)
		}
		if _, err := os.Stat(w.img); err == nil {
			fi, _ := os.Stat(w.img)
			if v.Size < fi.Size() {
				t.Errorf("volume %s: size %d < image %d", w.name, v.Size, fi.Size())
			}
		}
		fsys, err := OpenFS(testCtx(t), v.Reader, v.Size, v.Type)
		if err != nil {
			t.Errorf("volume %s: %v", w.name, err)
			continue
		}
		t.Run("volume-"+w.name, func(t *testing.T) { compareTree(t, fsys, w.src, w.opts) })
	}
	return l
}

func TestGPTDisk(t *testing.T) {
	fsImages(t)
	disk := filepath.Join(t.TempDir(), "disk.img")
	sparseFile(t, disk, 480<<20)
	run(t, "sgdisk", "-n", "1:2048:+33M", "-t", "1:8300", "-c", "1:root",
		"-n", "2:0:+301M", "-t", "2:8300", "-n", "3:0:+41M", "-t", "3:ef00",
		"-n", "4:0:+25M", "-t", "4:0700", "-n", "6:0:+4M", "-t", "6:8300", "-n", "7:0:+4M", "-t", "7:8200", disk)
	parts := sfdiskParts(t, disk)
	swap := filepath.Join(t.TempDir(), "swap.img")
	sparseFile(t, swap, 4<<20)
	run(t, "mkswap", swap)
	copyInto(t, disk, swap, parts[7][0])
	for n, img := range map[int]string{1: fixtures.ext4, 2: fixtures.xfs, 3: fixtures.fat32, 4: fixtures.ntfs} {
		copyInto(t, disk, img, parts[n][0])
	}
	l := checkLayout(t, disk, TableGPT, []want{extWant("1"), xfsWant("2"), fatWant("3", fixtures.fat32), ntfsWant("4"),
		{name: "6", typ: TypeUnknown}, {name: "7", typ: TypeSwap}})
	for _, v := range l.Volumes {
		if p, ok := parts[atoi(v.Name)]; !ok || p[0] != v.Offset || p[1] != v.Size || v.Path != "partitions/"+v.Name+".img" {
			t.Errorf("volume %s at %d+%d (%s); sfdisk says %v", v.Name, v.Offset, v.Size, v.Path, p)
		}
	}
	if l.Volumes[0].Label != "root" {
		t.Errorf("partition name %q", l.Volumes[0].Label)
	}
}

func TestMBRDiskWithLogicals(t *testing.T) {
	fsImages(t)
	disk := filepath.Join(t.TempDir(), "disk.img")
	sparseFile(t, disk, 480<<20)
	script := `label: dos
size=33MiB, type=83
size=21MiB, type=c
type=5
size=301MiB, type=83
size=25MiB, type=7
size=41MiB, type=c
`
	cmd := "sfdisk"
	needTool(t, cmd)
	runStdin(t, script, cmd, "-q", disk)
	parts := sfdiskParts(t, disk)
	for n, img := range map[int]string{1: fixtures.ext4, 2: fixtures.fat16, 5: fixtures.xfs, 6: fixtures.ntfs, 7: fixtures.fat32} {
		copyInto(t, disk, img, parts[n][0])
	}
	l := checkLayout(t, disk, TableMBR, []want{extWant("1"), fatWant("2", fixtures.fat16), xfsWant("5"), ntfsWant("6"),
		fatWant("7", fixtures.fat32)})
	if len(l.Volumes) != 5 {
		t.Errorf("%d volumes, want 5 (the extended container is not a volume)", len(l.Volumes))
	}
	for _, v := range l.Volumes {
		if p := parts[atoi(v.Name)]; p[0] != v.Offset || p[1] != v.Size {
			t.Errorf("volume %s at %d+%d; sfdisk says %v", v.Name, v.Offset, v.Size, p)
		}
	}
}

// TestWholeDisk: file systems without a partition table (FAT and NTFS boot
// sectors end in 55 AA like an MBR and must not be taken for one).
func TestWholeDisk(t *testing.T) {
	fsImages(t)
	for _, w := range []want{extWant(WholeDiskName), fatWant(WholeDiskName, fixtures.fat16), ntfsWant(WholeDiskName), xfsWant(WholeDiskName)} {
		t.Run(w.typ, func(t *testing.T) {
			l := checkLayout(t, w.img, TableNone, []want{w})
			if len(l.Volumes) != 1 || l.Volumes[0].Path != "disk.img" || l.Volumes[0].FilesDir != "files/disk" {
				t.Errorf("volumes %+v", l.Volumes)
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
