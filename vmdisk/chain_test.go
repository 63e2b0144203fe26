package vmdisk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// chainDir makes images with real qemu-img in one directory.
type chainDir struct {
	t   *testing.T
	dir string
}

func newChainDir(t *testing.T) *chainDir {
	needTool(t, "qemu-img", "qemu-utils")
	needTool(t, "qemu-io", "qemu-utils")
	return &chainDir{t: t, dir: t.TempDir()}
}

func (c *chainDir) path(name string) string { return filepath.Join(c.dir, name) }

// raw makes a 4 MiB raw file whose first 64 KiB hold pattern p.
func (c *chainDir) raw(name string, p byte) string {
	path := c.path(name)
	run(c.t, "qemu-img", "create", "-q", "-f", "raw", path, "4M")
	run(c.t, "qemu-io", "-f", "raw", "-c", fmt.Sprintf("write -P %d 0 64k", p), path)
	return path
}

// overlay makes a qcow2 named name over backing (as written in its header)
// of format fmtName, run from c.dir so relative names stay relative.
func (c *chainDir) overlay(name, backing, fmtName string) string {
	c.t.Helper()
	c.runIn("qemu-img", "create", "-q", "-f", "qcow2", "-F", fmtName, "-b", backing, name, "4M")
	return c.path(name)
}

// runIn runs a command in the directory (relative names stay relative).
func (c *chainDir) runIn(name string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func bytesReaderAt(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func (c *chainDir) write(path string, off int64, p byte) {
	run(c.t, "qemu-io", "-f", "qcow2", "-c", fmt.Sprintf("write -P %d %d 64k", p, off), path)
}

// TestReadChainThree: raw ← qcow2 (relative name) ← qcow2 (absolute
// name) is read in order, and a backup of it holds what qemu reads.
func TestReadChainThree(t *testing.T) {
	c := newChainDir(t)
	base := c.raw("base.raw", 1)
	mid := c.overlay("mid.qcow2", "base.raw", "raw")
	c.write(mid, 1<<20, 2)
	top := c.overlay("top.qcow2", mid, "qcow2")
	c.write(top, 2<<20, 3)
	chain, err := ReadChain(top, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ role, path, format string }{
		{ChainImage, top, "qcow2"}, {ChainBacking, mid, "qcow2"}, {ChainBacking, base, "raw"},
	}
	if len(chain) != len(want) {
		t.Fatalf("chain %+v, want %d files", chain, len(want))
	}
	for i, w := range want {
		f := chain[i]
		if f.Role != w.role || f.Path != realPath(t, w.path) || f.Format != w.format || f.Depth != i || f.Size <= 0 || f.MTime.IsZero() {
			t.Errorf("chain[%d] = %+v, want %s %s %s depth %d", i, f, w.role, w.path, w.format, i)
		}
	}
	ts := newTestStore(t)
	res := backupT(t, ts, "qcow2:"+top, nil, BackupOptions{})
	if len(res.Chain) != 3 {
		t.Fatalf("result chain %+v", res.Chain)
	}
	flat := c.path("flat.raw")
	run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", top, flat)
	sameFiles(t, flat, restoreT(t, ts, *prevOf(res), RestoreOptions{}))
}

func realPath(t *testing.T, p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReadChainRefusesOutside: backing files outside the image's directory
// (absolute, relative with .., through a symlink) are refused naming the
// file, and the backup is refused before any qemu opens them; source_roots
// let a chosen directory in.
func TestReadChainRefusesOutside(t *testing.T) {
	c := newChainDir(t)
	other := newChainDir(t)
	outside := other.raw("outside.raw", 9)
	if err := os.Symlink(outside, c.path("link.raw")); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(c.dir, outside)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"shadow.qcow2":   "/etc/shadow",
		"abs.qcow2":      outside,
		"dotdot.qcow2":   rel,
		"symlink.qcow2":  "link.raw",
		"passwd.qcow2":   "/etc/passwd",
		"devnull.qcow2":  "/dev/zero",
		"selfdir.qcow2":  "../" + filepath.Base(c.dir) + "/../" + filepath.Base(other.dir) + "/outside.raw",
		"jsonname.qcow2": `json:{"driver":"raw","file":{"driver":"file","filename":"/etc/shadow"}}`,
	}
	for name, backing := range cases {
		img := c.path(name)
		run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-u", "-b", backing, img, "1M")
		_, err := ReadChain(img, nil)
		var ce *ChainError
		if !errors.As(err, &ce) || ce.File != backing || !strings.Contains(err.Error(), fmt.Sprintf("%q", backing)) {
			t.Errorf("%s (backing %s): got %v, want a ChainError naming it", name, backing, err)
		}
		w := newTestStore(t).NewWriter()
		_, err = Backup(context.Background(), w, newTestStore(t), "qcow2:"+img, nil, BackupOptions{})
		w.Close()
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", backing)) {
			t.Errorf("backup of %s: got %v, want refused naming %s", name, err, backing)
		}
	}
	img := c.path("abs.qcow2")
	if _, err := ReadChain(img, []string{other.dir}); err != nil {
		t.Errorf("backing under source_roots refused: %v", err)
	}
}

// TestReadChainLoopAndDepth: a loop (a → b → a, and an image naming
// itself) and a chain deeper than MaxChainDepth are refused.
func TestReadChainLoopAndDepth(t *testing.T) {
	c := newChainDir(t)
	a, b := c.path("a.qcow2"), c.path("b.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", a, "1M")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", b, "1M")
	run(t, "qemu-img", "rebase", "-u", "-F", "qcow2", "-b", "b.qcow2", "-f", "qcow2", a)
	run(t, "qemu-img", "rebase", "-u", "-F", "qcow2", "-b", "a.qcow2", "-f", "qcow2", b)
	if _, err := ReadChain(a, nil); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("a ↔ b: got %v, want a loop refused", err)
	}
	self := c.path("self.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", self, "1M")
	run(t, "qemu-img", "rebase", "-u", "-F", "qcow2", "-b", "self.qcow2", "-f", "qcow2", self)
	if _, err := ReadChain(self, nil); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("self: got %v, want a loop refused", err)
	}
	// A FIFO beside the image is refused at once, not waited on.
	if err := syscall.Mkfifo(c.path("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"qcow2", "raw"} {
		img := c.path("fifo-" + f + ".qcow2")
		run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", f, "-u", "-b", "fifo", img, "1M")
		if _, err := ReadChain(img, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("backing FIFO (format %s): got %v", f, err)
		}
	}
	prev := c.raw("d0.raw", 1)
	for i := 1; i <= MaxChainDepth; i++ {
		prev = c.overlay(fmt.Sprintf("d%d.qcow2", i), filepath.Base(prev), map[bool]string{true: "raw", false: "qcow2"}[i == 1])
	}
	if _, err := ReadChain(prev, nil); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("depth %d: got %v, want refused", MaxChainDepth+1, err)
	}
}

// TestReadChainDataFile: an external data file outside the directory is
// refused naming it; inside, it is part of the chain and backed up.
func TestReadChainDataFile(t *testing.T) {
	c := newChainDir(t)
	other := newChainDir(t)
	out := c.path("out.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file="+other.path("data.raw"), out, "4M")
	if _, err := ReadChain(out, nil); err == nil || !strings.Contains(err.Error(), other.path("data.raw")) {
		t.Errorf("outside data file: got %v, want refused naming it", err)
	}
	in := c.path("in.qcow2")
	c.runIn("qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=in.data", "in.qcow2", "4M")
	c.runIn("qemu-io", "-f", "qcow2", "-c", "write -P 7 0 64k", "in.qcow2")
	chain, err := ReadChain(in, nil)
	if err != nil || len(chain) != 2 || chain[1].Role != ChainDataFile {
		t.Fatalf("data file chain %+v, %v", chain, err)
	}
	ts := newTestStore(t)
	res := backupT(t, ts, "qcow2:"+in, nil, BackupOptions{})
	flat := c.path("flat.raw")
	c.runIn("qemu-img", "convert", "-f", "qcow2", "-O", "raw", "in.qcow2", flat)
	sameFiles(t, flat, restoreT(t, ts, *prevOf(res), RestoreOptions{}))
}

// TestQcow2RebaseFallsBack: after `qemu-img rebase -u` onto another
// backing file a bitmap backup is not trusted: hash compare, a warning,
// and the restored disk is the new content.
func TestQcow2RebaseFallsBack(t *testing.T) {
	c := newChainDir(t)
	c.raw("base1.raw", 1)
	c.raw("base2.raw", 2)
	top := c.overlay("top.qcow2", "base1.raw", "raw")
	c.write(top, 1<<20, 3)
	ts := newTestStore(t)
	opts := BackupOptions{Bitmap: "B"}
	r1 := backupT(t, ts, "qcow2:"+top, nil, opts)
	c.write(top, 2<<20, 4)
	r2 := backupT(t, ts, "qcow2:"+top, prevOf(r1), opts)
	if r2.Method != MethodBitmap {
		t.Fatalf("unchanged chain: method %s, warnings %v", r2.Method, r2.Warnings)
	}
	run(t, "qemu-img", "rebase", "-u", "-F", "raw", "-b", "base2.raw", "-f", "qcow2", top)
	r3 := backupT(t, ts, "qcow2:"+top, prevOf(r2), opts)
	if r3.Method != MethodHashCompare || !hasWarning(r3, "backing chain changed") {
		t.Fatalf("rebased: method %s, warnings %v; want hash-compare with a warning", r3.Method, r3.Warnings)
	}
	flat := c.path("flat.raw")
	run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "raw", top, flat)
	sameFiles(t, flat, restoreT(t, ts, *prevOf(r3), RestoreOptions{}))
	// A point without a recorded chain (older rewind) is not trusted either.
	old := prevOf(r3)
	old.Chain = nil
	if r4 := backupT(t, ts, "qcow2:"+top, old, opts); r4.Method != MethodHashCompare {
		t.Errorf("previous point without a chain: method %s", r4.Method)
	}
}

// hostileHeader returns a valid v3 header (one 64 KiB cluster) naming
// backing "b.raw", for TestQcow2HeaderHostile and the fuzz seeds.
func hostileHeader() []byte {
	h := make([]byte, 512)
	copy(h, qcowMagic)
	binary.BigEndian.PutUint32(h[4:], 3)
	binary.BigEndian.PutUint64(h[8:], 200)
	binary.BigEndian.PutUint32(h[16:], 5)
	binary.BigEndian.PutUint32(h[20:], 16)
	binary.BigEndian.PutUint32(h[100:], 112)
	binary.BigEndian.PutUint32(h[112:], qcowExtBackingFmt)
	binary.BigEndian.PutUint32(h[116:], 3)
	copy(h[120:], "raw")
	copy(h[200:], "b.raw")
	return h
}

// TestQcow2HeaderHostile: offsets and lengths from the file are bounded.
func TestQcow2HeaderHostile(t *testing.T) {
	h, err := parseQcow2Header(bytesReaderAt(hostileHeader()))
	if err != nil || h.Backing != "b.raw" || h.BackingFormat != "raw" {
		t.Fatalf("valid header: %+v, %v", h, err)
	}
	patch := func(off int, width int, v uint64) []byte {
		b := hostileHeader()
		if width == 4 {
			binary.BigEndian.PutUint32(b[off:], uint32(v))
		} else {
			binary.BigEndian.PutUint64(b[off:], v)
		}
		return b
	}
	cases := map[string][]byte{
		"backing offset past the cluster": patch(8, 8, 1<<40),
		"backing offset wraps":            patch(8, 8, ^uint64(0)-2),
		"backing name too long":           patch(16, 4, 4096),
		"backing name past the file":      patch(8, 8, 65000),
		"size without offset":             patch(8, 8, 0),
		"version 4":                       patch(4, 4, 4),
		"cluster bits 40":                 patch(20, 4, 40),
		"header length past cluster":      patch(100, 4, 1<<20),
		"header length unaligned":         patch(100, 4, 105),
		"extension longer than cluster":   patch(116, 4, 0xffffffff),
		"extension name too long":         patch(116, 4, 2000),
		"truncated":                       hostileHeader()[:50],
		"not qcow2":                       []byte("hello world, a raw disk"),
	}
	for name, b := range cases {
		if _, err := parseQcow2Header(bytesReaderAt(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestReadChainProbesFormat: an image whose header names no backing format
// (its extension overwritten, as older qemu-img wrote them) gets the format
// probed like QEMU does: qcow2 by its magic, raw otherwise.
func TestReadChainProbesFormat(t *testing.T) {
	c := newChainDir(t)
	c.raw("base.raw", 1)
	mid := c.overlay("mid.qcow2", "base.raw", "raw")
	top := c.overlay("top.qcow2", "mid.qcow2", "qcow2")
	for _, img := range []string{mid, top} {
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		var ext [4]byte
		binary.BigEndian.PutUint32(ext[:], qcowExtBackingFmt)
		i := bytes.Index(b[:4096], ext[:])
		if i < 0 {
			t.Fatalf("%s has no backing-format extension", img)
		}
		binary.BigEndian.PutUint32(b[i:], 0x7265776e) // an unknown extension, ignored
		if err := os.WriteFile(img, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	chain, err := ReadChain(top, nil)
	if err != nil || len(chain) != 3 || chain[1].Format != "qcow2" || chain[2].Format != "raw" {
		t.Fatalf("probed chain %+v, %v", chain, err)
	}
}
