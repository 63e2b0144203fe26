package guest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// fixtureDir holds file-system images shared by the disk tests; TestMain
// removes it.
var (
	fixtureDir  string
	fixtureOnce sync.Once
	fixtureErr  string
	fixtures    struct{ src, fatSrc, ext4, xfs, fat32, fat16, ntfs string }
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// fsImages builds (once) an ext4, XFS, FAT32, FAT16 and NTFS image of the
// reference tree. FAT gets a tree without symlinks and owners.
func fsImages(t testing.TB) {
	t.Helper()
	fixtureOnce.Do(func() {
		ft := &onceT{TB: t}
		defer func() {
			if r := recover(); r != nil && r != errOnceFail {
				panic(r)
			}
		}()
		dir, err := os.MkdirTemp("", "guest-fixtures-")
		must(t, err)
		fixtureDir = dir
		f := &fixtures
		f.src, f.fatSrc = filepath.Join(dir, "src"), filepath.Join(dir, "fatsrc")
		makeTree(ft, f.src, treeOpts{symlinks: true, owners: true, many: 300})
		makeTree(ft, f.fatSrc, treeOpts{many: 100})
		f.ext4, f.xfs = filepath.Join(dir, "ext4.img"), filepath.Join(dir, "xfs.img")
		f.fat32, f.fat16, f.ntfs = filepath.Join(dir, "fat32.img"), filepath.Join(dir, "fat16.img"), filepath.Join(dir, "ntfs.img")
		mkExt(ft, f.ext4, f.src, "ext4", 32<<20)
		mkXFS(ft, f.xfs, f.src, 300<<20)
		mkFAT(ft, f.fat32, f.fatSrc, "32", 40<<20)
		mkFAT(ft, f.fat16, f.fatSrc, "16", 20<<20)
		mkNTFS(ft, f.ntfs, f.src, 24<<20)
	})
	if fixtureErr != "" {
		t.Fatal(fixtureErr)
	}
}

var errOnceFail = new(int)

// onceT turns a fatal error inside the shared builder into fixtureErr, so
// every test that needs the fixtures fails with the same message.
type onceT struct{ testing.TB }

func (o *onceT) Fatal(args ...any) { fixtureErr = sprint(args...); panic(errOnceFail) }
func (o *onceT) Fatalf(format string, args ...any) {
	fixtureErr = sprintf(format, args...)
	panic(errOnceFail)
}
func (o *onceT) Cleanup(f func()) { o.TB.Cleanup(f) }
func (o *onceT) TempDir() string {
	d, err := os.MkdirTemp(fixtureDir, "tmp-")
	if err != nil {
		o.Fatal(err)
	}
	return d
}

// sfdiskParts returns partition number → (start, size) in bytes as sfdisk
// reports them.
func sfdiskParts(t *testing.T, disk string) map[int][2]int64 {
	var out struct {
		PT struct {
			SectorSize int64 `json:"sectorsize"`
			Partitions []struct {
				Node  string `json:"node"`
				Start int64  `json:"start"`
				Size  int64  `json:"size"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	must(t, json.Unmarshal([]byte(run(t, "sfdisk", "--json", disk)), &out))
	ss := out.PT.SectorSize
	if ss == 0 {
		ss = 512
	}
	parts := map[int][2]int64{}
	num := regexp.MustCompile(`(\d+)$`)
	for _, p := range out.PT.Partitions {
		n, _ := strconv.Atoi(num.FindString(p.Node))
		parts[n] = [2]int64{p.Start * ss, p.Size * ss}
	}
	return parts
}
