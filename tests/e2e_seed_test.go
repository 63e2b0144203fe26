package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noDaemon runs the CLI with a socket nobody listens on: what it does, it
// does without a daemon.
func noDaemon(t *testing.T) *daemonProc {
	return &daemonProc{t: t, dir: t.TempDir(), socket: filepath.Join(t.TempDir(), "nobody.sock")}
}

// TestE2ESeedShareAndDisk: a share and a qcow2 disk are seeded by "seed
// create" with no daemon, the seeds copied to another host's directory and
// imported there (the share into a new item made from the seed, the disk
// into an item added beforehand); the next backups read only what changed,
// every point restores byte-identical, and a re-import is refused.
func TestE2ESeedShareAndDisk(t *testing.T) {
	need(t, "qemu-img", "qemu-io", "qemu-nbd")
	site := noDaemon(t)
	src := filepath.Join(site.dir, "share")
	makeTree(t, src)
	img := filepath.Join(site.dir, "vm.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", img, "64M")
	sh(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 8M", "-c", "write -P 0xcd 20M 4M", img)
	sp := filepath.Join(site.dir, "seed.pass")
	os.WriteFile(sp, []byte("carried on a disk\n"), 0o600)
	site.mustCode(0, "seed", "create", "--share", src, "--to", filepath.Join(site.dir, "s-share"), "--seed-passphrase-file", sp)
	site.mustCode(0, "seed", "create", "--disk", "qcow2:"+img, "--bitmap", "rw", "--to", filepath.Join(site.dir, "s-disk"), "--seed-passphrase-file", sp)
	wantDisk1 := rawCopy(t, img, filepath.Join(site.dir, "want1.raw"))
	if _, errOut, code := site.run("seed", "create", "--share", src, "--to", filepath.Join(site.dir, "s-share"), "--seed-passphrase-file", sp); code == 0 || !strings.Contains(errOut, "not empty") {
		t.Fatalf("seed create into a used directory: exit %d %s", code, errOut)
	}

	d := startDaemon(t, "")
	for _, s := range []string{"s-share", "s-disk"} {
		sh(t, "cp", "-a", filepath.Join(site.dir, s), filepath.Join(d.dir, s))
	}
	d.must("seed", "import", filepath.Join(d.dir, "s-share"), "--item", "files", "--seed-passphrase-file", sp)
	other := filepath.Join(d.dir, "other.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", other, "32M")
	d.must("item", "add", "vm-other", "--disk", "qcow2:"+other, "--bitmap", "rw")
	if _, errOut, code := d.run("seed", "import", filepath.Join(d.dir, "s-disk"), "--item", "vm-other", "--seed-passphrase-file", sp); code == 0 || !strings.Contains(errOut, "not the same disk") {
		t.Fatalf("a seed imported into an item of another disk: exit %d %s", code, errOut)
	}
	d.must("item", "add", "vm", "--disk", "qcow2:"+img, "--bitmap", "rw")
	d.must("seed", "import", filepath.Join(d.dir, "s-disk"), "--item", "vm", "--seed-passphrase-file", sp)
	if _, errOut, code := d.run("seed", "import", filepath.Join(d.dir, "s-share"), "--item", "files", "--seed-passphrase-file", sp); code == 0 || !strings.Contains(errOut, "already has 1 recovery points") {
		t.Fatalf("a re-import: exit %d %s", code, errOut)
	}

	r0 := filepath.Join(d.dir, "r0")
	d.must("restore", "share", "files", "--point", "latest", "--to", r0)
	compareTrees(t, src, r0)
	os.WriteFile(filepath.Join(src, "more.txt"), []byte("after the seed"), 0o644)
	d.must("backup", "files")
	sharePts := seedPoints(t, d, "files")
	if read := sharePts[1]["bytes_read"].(float64); read != float64(len("after the seed")) {
		t.Errorf("the share backup after the seed read %v bytes; only more.txt (14 bytes) changed", read)
	}
	t.Logf("share backup after the seed read %v bytes", sharePts[1]["bytes_read"])
	r1 := filepath.Join(d.dir, "r1")
	d.must("restore", "share", "files", "--point", "latest", "--to", r1)
	compareTrees(t, src, r1)

	sh(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x11 40M 1M", img)
	d.must("backup", "vm")
	wantDisk2 := rawCopy(t, img, filepath.Join(d.dir, "want2.raw"))
	diskPts := seedPoints(t, d, "vm")
	if read := diskPts[1]["bytes_read"].(float64); read < 1<<20 || read > 4<<20+(64<<20)/100 {
		t.Errorf("the disk backup after the seed read %v bytes; qemu-io wrote 1 MiB inside one 4 MiB block", read)
	}
	t.Logf("disk backup after the seed read %v bytes of %v", diskPts[1]["bytes_read"], diskPts[1]["source_bytes"])
	for i, want := range [][]byte{wantDisk1, wantDisk2} {
		out := filepath.Join(d.dir, fmt.Sprintf("disk%d.raw", i))
		d.must("restore", "disk", "vm", "--point", diskPts[i]["id"].(string), "--to", out, "--verify")
		if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
			t.Errorf("disk point %d restores different bytes (%v)", i, err)
		}
	}
}

// seedPoints lists item's points: a full one from the seed, then an incremental.
func seedPoints(t *testing.T, d *daemonProc, item string) []map[string]any {
	t.Helper()
	var pts []map[string]any
	d.jsonOf(&pts, "points", item)
	if len(pts) != 2 || pts[0]["kind"] != "full" || pts[1]["kind"] != "incremental" {
		t.Fatalf("points of %s: %v", item, pts)
	}
	return pts
}

// TestE2ESeedDamagedCommitsNothing: a tampered and a truncated pack, and a
// wrong seed passphrase, fail the import naming the problem; no item and no
// point are left.
func TestE2ESeedDamagedCommitsNothing(t *testing.T) {
	site := noDaemon(t)
	src := filepath.Join(site.dir, "share")
	makeTree(t, src)
	os.WriteFile(filepath.Join(src, "big.bin"), bytes.Repeat([]byte("seed data "), 300000), 0o644)
	site.mustCode(0, "seed", "create", "--share", src, "--to", filepath.Join(site.dir, "seed"), "--seed-passphrase-file", writePass(t, site.dir, "a seed passphrase"))
	d := startDaemon(t, "")
	sp := writePass(t, d.dir, "a seed passphrase")
	pack := biggestPack(t, filepath.Join(site.dir, "seed", "data"))
	damage := map[string]func(path string){
		"tampered with": func(p string) {
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x40
			os.WriteFile(p, b, 0o600)
		},
		"truncated": func(p string) {
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-100)
		},
	}
	for what, fn := range damage {
		dir := filepath.Join(d.dir, strings.ReplaceAll(what, " ", "-"))
		sh(t, "cp", "-a", filepath.Join(site.dir, "seed"), dir)
		fn(filepath.Join(dir, "data", pack))
		if _, errOut, code := d.run("seed", "import", dir, "--item", "files", "--seed-passphrase-file", sp); code == 0 || !strings.Contains(errOut, pack) || !strings.Contains(errOut, what) {
			t.Errorf("a %s seed: exit %d %q", what, code, errOut)
		}
	}
	wrong := writePass(t, t.TempDir(), "not the seed passphrase")
	if _, errOut, code := d.run("seed", "import", filepath.Join(site.dir, "seed"), "--item", "files", "--seed-passphrase-file", wrong); code == 0 || !strings.Contains(errOut, "seed passphrase") {
		t.Errorf("a wrong seed passphrase: exit %d %q", code, errOut)
	}
	if _, _, code := d.run("item", "show", "files"); code != 4 {
		t.Error("a refused seed must leave no item behind")
	}
	d.must("seed", "import", filepath.Join(site.dir, "seed"), "--item", "files", "--seed-passphrase-file", sp)
	r := filepath.Join(d.dir, "restored")
	d.must("restore", "share", "files", "--point", "latest", "--to", r)
	compareTrees(t, src, r)
}

func writePass(t *testing.T, dir, pass string) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("pass-%d", len(pass)))
	if err := os.WriteFile(p, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// biggestPack names the largest object under a seed's data directory.
func biggestPack(t *testing.T, data string) string {
	t.Helper()
	var best string
	var size int64
	filepath.Walk(data, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Size() > size {
			best, size = p, fi.Size()
		}
		return nil
	})
	rel, err := filepath.Rel(data, best)
	if err != nil || best == "" {
		t.Fatalf("no pack under %s", data)
	}
	return rel
}

// mustCode runs the CLI and fails unless it exits with code.
func (d *daemonProc) mustCode(code int, args ...string) string {
	d.t.Helper()
	out, errOut, got := d.run(args...)
	if got != code {
		d.t.Fatalf("rewind %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, out, errOut)
	}
	return out
}
