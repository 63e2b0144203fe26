package tests

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSocketPathNotASocket: a --socket that names an existing regular file
// (a typo, or a hostile config) is refused naming it; the file is kept.
func TestSocketPathNotASocket(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, rewindBin, "daemon", "--config", "/dev/null",
		"--data", filepath.Join(dir, "data"), "--socket", victim).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 || !strings.Contains(string(out), victim) {
		t.Errorf("daemon with --socket on a regular file: %v, want a non-zero exit naming it:\n%s", err, out)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me\n" {
		t.Fatalf("the file at --socket was removed or changed: %q %v", b, err)
	}
}

// TestForgedCreateMarker: a create marker planted in an empty vault
// directory, listing "../victim" among what create wrote, must not make the
// start-up remove another vault: nothing outside the marker's own directory
// is ever removed, and the forged marker is refused naming the entry.
func TestForgedCreateMarker(t *testing.T) {
	d := startDaemon(t, "")
	d.createVault("victim")
	d.stop()
	evil := filepath.Join(d.data, "vaults", "evil")
	if err := os.MkdirAll(evil, 0o700); err != nil {
		t.Fatal(err)
	}
	marker := `{"format":"rewind-create-in-progress","v":1,"name":"evil","store":"store","writes":["store","../victim"]}`
	if err := os.WriteFile(filepath.Join(evil, "create-in-progress"), []byte(marker), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	if _, err := os.Stat(filepath.Join(d.data, "vaults", "victim", "vault.json")); err != nil {
		t.Fatalf("a forged create marker removed another vault: %v\n%s", err, d.logs.String())
	}
	if out := d.must("vault", "list"); !strings.Contains(out, "victim") {
		t.Fatalf("vault list after the forged marker:\n%s", out)
	}
	if !strings.Contains(d.logs.String(), "../victim") {
		t.Fatalf("the refusal does not name the forged entry:\n%s", d.logs.String())
	}
}

// TestLostShardsDiskRestoreLeavesNoImage: with 3 of 6 shards of the disk's
// data segment gone, "restore disk" to a new file fails naming the segment
// and chunk and leaves no file behind (a full-size image with zeros where
// the data was lost looks like a good restore).
func TestLostShardsDiskRestoreLeavesNoImage(t *testing.T) {
	d := startDaemon(t, "")
	disk := filepath.Join(d.dir, "disk.img")
	data := make([]byte, 16<<20)
	rand.Read(data)
	if err := os.WriteFile(disk, data, 0o600); err != nil {
		t.Fatal(err)
	}
	d.createVault("prod")
	d.must("item", "add", "vm", "--vault", "prod", "--disk", disk)
	d.must("backup", "vm")
	for _, f := range oldestSegmentShards(t, filepath.Join(d.data, "vaults", "prod"))[:3] {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(d.dir, "restored.img")
	_, errOut, code := d.run("restore", "disk", "vm", "--point", "latest", "--to", dst)
	if code == 0 || !strings.Contains(errOut, "segment") || !strings.Contains(errOut, "chunk") {
		t.Fatalf("restore disk with lost shards: exit %d, want a failure naming segment and chunk:\n%s", code, errOut)
	}
	if fi, err := os.Lstat(dst); err == nil {
		t.Fatalf("a failed restore left %s (%d bytes)", dst, fi.Size())
	}
}

// TestLeaseDeletedFencedHostStaysFenced: host B took vault prod over from
// A; both stop; every lease copy is deleted. A restarting must not become
// the owner again (its catalog is stale): its backup fails and vault list
// does not say "this host". B restarting owns the vault and backs up.
func TestLeaseDeletedFencedHostStaysFenced(t *testing.T) {
	shards := t.TempDir()
	specs := make([]string, 6)
	for i := range specs {
		specs[i] = filepath.Join(shards, strconv.Itoa(i))
	}
	a, b := startDaemon(t, ""), startDaemon(t, "")
	pf := filepath.Join(t.TempDir(), "prod.pass")
	os.WriteFile(pf, []byte("a long enough passphrase\n"), 0o600)
	a.must("vault", "create", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf)
	src := filepath.Join(t.TempDir(), "share")
	makeTree(t, src)
	a.must("item", "add", "files", "--vault", "prod", "--share", src)
	a.must("backup", "files")
	b.must("vault", "attach", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf, "--takeover")
	a.stop()
	b.stop()
	for _, s := range specs {
		if err := os.Remove(filepath.Join(s, "lease", "owner")); err != nil {
			t.Fatal(err)
		}
	}
	a.start()
	a.must("vault", "unlock", "prod", "--passphrase-file", pf)
	if out, errOut, code := a.run("backup", "files"); code == 0 {
		t.Fatalf("the fenced host backed up after the lease was deleted:\n%s%s", out, errOut)
	}
	if got := a.must("vault", "list"); strings.Contains(lineWith(got, "prod"), "this host") {
		t.Fatalf("the fenced host owns the vault again:\n%s", got)
	}
	a.stop()
	b.start()
	b.must("vault", "unlock", "prod", "--passphrase-file", pf)
	b.must("backup", "files")
}

func lineWith(s, word string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			return l
		}
	}
	return ""
}
