package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMountDuringBackupAndGC: a mount stays readable while a backup of the
// same item runs and while GC runs.
func TestMountDuringBackupAndGC(t *testing.T) {
	need(t, "fusermount3")
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src, "--off-hours-rate", "2MB/s", "--work-hours-rate", "2MB/s")
	d.must("backup", "files")
	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	d.must("mount", mnt)
	defer d.run("umount", mnt)
	first := filepath.Join(mnt, "files", "latest")
	target, err := os.Readlink(first)
	if err != nil {
		t.Fatal(err)
	}
	pointDir := filepath.Join(mnt, "files", target)
	// A second backup that reads 5 MiB at 2 MB/s runs for a few seconds.
	big := make([]byte, 5<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	os.WriteFile(filepath.Join(src, "big.bin"), big, 0o640)
	d.must("backup", "files", "--no-wait")
	id := waitRunning(t, d, "files")
	for i := 0; i < 5; i++ {
		compareTrees(t, filepath.Join(src, "docs"), filepath.Join(pointDir, "docs"))
		time.Sleep(200 * time.Millisecond)
	}
	d.must("job", "watch", id)
	d.must("gc", "--no-wait")
	for i := 0; i < 5; i++ {
		if _, err := os.ReadFile(filepath.Join(pointDir, "big.bin")); err != nil {
			t.Fatalf("read through the mount during GC: %v", err)
		}
	}
}

// TestImmutabilityLocked: a locked vault refuses to turn immutability off
// and to delete data early, and says so.
func TestImmutabilityLocked(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	d.must("vault", "set", "default", "--immutability", "locked")
	_, errOut, code := d.run("vault", "set", "default", "--immutability", "off")
	if code == 0 || !strings.Contains(errOut, "locked") {
		t.Fatalf("turning a locked vault's immutability off: exit %d %q", code, errOut)
	}
	if _, errOut, code := d.run("vault", "set", "default", "--soft-delete-days", "3"); code == 0 {
		t.Fatalf("a soft-delete period below 14 days on a locked vault: exit 0 %q", errOut)
	}
	d.must("item", "stop", "files", "--delete-data")
	var points []map[string]any
	d.jsonOf(&points, "points", "files")
	if len(points) != 1 {
		t.Fatalf("stop --delete-data on a locked vault must keep the points (soft delete): %v", points)
	}
	var v map[string]any
	d.jsonOf(&v, "vault", "show", "default")
	if v["immutability"] != "locked" {
		t.Fatalf("vault: %v", v)
	}
}

// TestLockedVault: a vault whose passphrase is not given stays locked after a
// restart: it is listed and its jobs shown, but backups are refused with exit 6
// until "vault unlock".
func TestLockedVault(t *testing.T) {
	d := startDaemon(t, "")
	pf := d.createVault("prod")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--vault", "prod", "--share", src)
	d.must("backup", "files")
	d.stop()
	d.start()
	var vaults []map[string]any
	d.jsonOf(&vaults, "vault", "list")
	for _, v := range vaults {
		if v["name"] == "prod" && v["locked"] != true {
			t.Fatalf("prod should be locked after a restart: %v", v)
		}
	}
	d.must("jobs", "--vault", "prod")
	d.must("verify", "prod") // shards and parity need no key
	if _, _, code := d.run("verify", "prod", "--read-data"); code != 6 {
		t.Errorf("verify --read-data of a locked vault: exit %d, want 6", code)
	}
	_, errOut, code := d.run("backup", "files")
	if code != 6 || !strings.Contains(errOut, "rewind vault unlock prod") {
		t.Fatalf("backup of a locked vault: exit %d %q", code, errOut)
	}
	wrong := filepath.Join(d.dir, "wrong.pass")
	os.WriteFile(wrong, []byte("not it at all\n"), 0o600)
	if _, errOut, code := d.run("vault", "unlock", "prod", "--passphrase-file", wrong); code == 0 || !strings.Contains(errOut, "passphrase") {
		t.Fatalf("a wrong passphrase: exit %d %q", code, errOut)
	}
	d.must("vault", "unlock", "prod", "--passphrase-file", pf)
	d.must("backup", "files")
	keyFile := filepath.Join(d.dir, "prod.key")
	d.must("vault", "key", "export", "prod", "--to", keyFile)
	if st, err := os.Stat(keyFile); err != nil || st.Size() == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("exported key file: %v %v", st, err)
	}
	if b, _ := os.ReadFile(keyFile); strings.Contains(string(b), "a long enough") || strings.Contains(string(b), "correct horse") {
		t.Fatal("the exported key file must not hold the passphrase")
	}
}
