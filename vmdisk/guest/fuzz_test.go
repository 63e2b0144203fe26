package guest

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Seeds are generated at test time by the real tools (small images, so the
// fuzzer mutates something meaningful): a GPT disk, an MBR disk with an
// extended partition and three logicals, an LVM2 PV's label and metadata,
// and tiny ext4, FAT12 and NTFS file systems plus the head of an XFS one.

func seedFile(t testing.TB, dir, name string, size int64) string {
	p := filepath.Join(dir, name)
	sparseFile(t, p, size)
	return p
}

func readAll(t testing.TB, p string, limit int64) []byte {
	b, err := os.ReadFile(p)
	must(t, err)
	if int64(len(b)) > limit {
		b = b[:limit]
	}
	return b
}

func tableSeeds(t testing.TB) [][]byte {
	dir := t.TempDir()
	g := seedFile(t, dir, "gpt.img", 256<<10)
	run(t, "sgdisk", "-a", "1", "-n", "1:40:+40K", "-n", "2:0:+30K", "-n", "4:0:+20K", g)
	m := seedFile(t, dir, "mbr.img", 256<<10)
	runStdin(t, "label: dos\nunit: sectors\nstart=1, size=60, type=83\nstart=100, size=300, type=5\n"+
		"start=102, size=50, type=83\nstart=160, size=50, type=c\nstart=220, size=100, type=7\n", "sfdisk", "-q", m)
	seeds := [][]byte{readAll(t, g, 1<<20), readAll(t, m, 1<<20)}
	if pv := lvmSeed(t, dir); pv != nil {
		seeds = append(seeds, pv)
	}
	return seeds
}

// lvmSeed makes a PV with a VG of two LVs (one with two segments) and
// returns its first 64 KiB (label and metadata).
func lvmSeed(t testing.TB, dir string) []byte {
	p := seedFile(t, dir, "pv.img", 12<<20)
	dev := strings.TrimSpace(run(t, "losetup", "-f", "--show", p))
	defer exec.Command("losetup", "-d", dev).Run()
	vg := "fuzzvg" + filepath.Base(dir)
	vg = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, vg)
	for _, args := range [][]string{
		{"pvcreate", "-ff", "-y", dev}, {"vgcreate", "-s", "1M", vg, dev},
		{"lvcreate", "-Zn", "-y", "-n", "a", "-L", "2M", vg}, {"lvcreate", "-Zn", "-y", "-n", "b", "-L", "2M", vg},
		{"lvextend", "-L", "4M", vg + "/a"},
	} {
		run(t, args[0], append(lvmFlags(), args[1:]...)...)
	}
	seed := readAll(t, p, 64<<10) // label and metadata area (the text is a few KiB)
	exec.Command("vgremove", append(lvmFlags(), "-ff", "-y", vg)...).Run()
	return seed
}

func FuzzProbe(f *testing.F) {
	for _, s := range tableSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		exercise(ctx, bytes.NewReader(data), int64(len(data)), "")
	})
}

var fuzzTypes = []string{TypeExt4, TypeXFS, TypeVFAT, TypeNTFS}

func FuzzOpenFS(f *testing.F) {
	dir := f.TempDir()
	src := filepath.Join(dir, "src")
	must(f, os.MkdirAll(filepath.Join(src, "d/e"), 0o755))
	must(f, os.WriteFile(filepath.Join(src, "d/e/f.txt"), []byte("fuzz\n"), 0o644))
	must(f, os.WriteFile(filepath.Join(src, "a.txt"), bytes.Repeat([]byte("a"), 5000), 0o600))
	must(f, os.Symlink("a.txt", filepath.Join(src, "l")))
	// xattrs and an ACL so the seeds hold in-inode and block xattrs
	run(f, "setfattr", "-n", "user.k", "-v", "0x"+strings.Repeat("5a", 300), filepath.Join(src, "a.txt"))
	run(f, "setfacl", "-m", "u:7:r", filepath.Join(src, "d/e/f.txt"))
	ext := filepath.Join(dir, "ext4.img")
	mkExt(f, ext, src, "ext4", 256<<10)
	fat := seedFile(f, dir, "fat.img", 200<<10)
	run(f, "mkfs.vfat", "-F", "12", fat)
	run(f, "mcopy", "-s", "-i", fat, filepath.Join(src, "d"), filepath.Join(src, "a.txt"), "::/")
	ntfsImg := seedFile(f, dir, "ntfs.img", 2<<20)
	run(f, "mkntfs", "-F", "-Q", "-q", ntfsImg)
	run(f, "ntfscp", "-f", ntfsImg, filepath.Join(src, "a.txt"), "a.txt")
	xfsImg := seedFile(f, dir, "xfs.img", 300<<20)
	mkXFSQuiet(f, xfsImg, src)
	f.Add(readAll(f, ext, 1<<20), uint8(0))
	f.Add(readAll(f, xfsImg, 128<<10), uint8(1))
	f.Add(readAll(f, fat, 1<<20), uint8(2))
	f.Add(readAll(f, ntfsImg, 2<<20), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		exercise(ctx, bytes.NewReader(data), int64(len(data)), fuzzTypes[int(kind)%len(fuzzTypes)])
	})
}

func mkXFSQuiet(t testing.TB, img, dir string) {
	proto := img + ".proto"
	protofile(t, dir, proto)
	run(t, "mkfs.xfs", "-q", "-f", "-p", proto, img)
}

// FuzzACL feeds the ext4 and XFS on-disk ACL converters; whatever they
// accept must come out as a well-formed Linux ACL xattr.
func FuzzACL(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x01\x00\x06\x00\x02\x00\x04\x00\xd2\x04\x00\x00\x04\x00\x04\x00\x20\x00\x00\x00"), false)
	f.Add([]byte("\x00\x00\x00\x01\x00\x00\x00\x01\xff\xff\xff\xff\x00\x06\x00\x00"), true)
	f.Fuzz(func(t *testing.T, b []byte, xfs bool) {
		conv := extACL
		if xfs {
			conv = xfsACL
		}
		v, err := conv(b)
		if err != nil {
			return
		}
		if len(v) < 4 || (len(v)-4)%8 != 0 || binary.LittleEndian.Uint32(v) != aclXattrVersion {
			t.Fatalf("malformed ACL xattr %x from %x", v, b)
		}
	})
}

// FuzzXattrDecoders feeds the xattr list decoders directly (a whole-image
// fuzzer rarely reaches them): ext4 entry lists (values in place or in an
// ea_inode of a real image), XFS short-form forks and XFS leaf blocks with
// local and remote values. They may refuse input, never panic or hang.
func FuzzXattrDecoders(f *testing.F) {
	dir := f.TempDir()
	src := filepath.Join(dir, "src")
	must(f, os.MkdirAll(src, 0o755))
	must(f, os.WriteFile(filepath.Join(src, "a"), []byte("a"), 0o644))
	img := filepath.Join(dir, "ext4.img")
	mkExt(f, img, src, "ext4", 1<<20)
	r, size := openImage(f, img)
	fsys, err := OpenFS(context.Background(), r, size, TypeExt4)
	must(f, err)
	ext := fsys.(*tree).b.(*extFS)
	x := &xfsFS{r: bytes.NewReader(make([]byte, 64<<10)), bs: 4096, v5: true}
	blocks := attrBlocks{x: x, f: &blockFile{r: x.r, bs: x.bs, size: 64 << 10,
		exts: []extent{{lblk: 0, pblk: 0, n: 16}}}}
	// ext: one entry "user.k" = "v" (value at offset 32 from the base)
	f.Add([]byte("\x01\x01\x20\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00k\x00\x00\x00\x00\x00\x00\x00"+
		"\x00\x00\x00\x00\x00\x00\x00\x00v"), uint8(0))
	// xfs short form: totsize, count 1, pad; namelen 1, valuelen 1, flags 0, "k", "v"
	f.Add([]byte("\x00\x09\x01\x00\x01\x01\x00kv"), uint8(1))
	leaf := make([]byte, 4096)
	copy(leaf[8:], "\x3b\xee")
	copy(leaf[56:], "\x00\x02")                                 // two entries
	copy(leaf[80:], "\x00\x00\x00\x01\x0f\x00\x01\x00")         // local at 0xf00
	copy(leaf[88:], "\x00\x00\x00\x02\x0f\x10\x00\x00")         // remote at 0xf10
	copy(leaf[0xf00:], "\x00\x01\x01kv")                        // valuelen 1, namelen 1
	copy(leaf[0xf10:], "\x00\x00\x00\x01\x00\x00\x00\x05\x01r") // block 1, 5 bytes, name "r"
	f.Add(leaf, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		add := func(byte, []byte, []byte) error { return nil }
		switch which % 3 {
		case 0:
			ext.xattrEntries(b, 0, 0, nil)
		case 1:
			xfsShortAttrs(b, add)
		case 2:
			blk := make([]byte, x.bs) // the reader always hands over whole blocks
			copy(blk, b)
			blocks.leaf(blk, add)
		}
	})
}
