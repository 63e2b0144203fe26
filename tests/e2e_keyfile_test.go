package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestE2EKeyFileWhenPassphraseLost: the exported key file unlocks a vault
// after its passphrase file is gone and the daemon restarted, re-wraps the
// key under a new passphrase, and attaches the vault on a second data
// directory (--takeover while the first host's lease is live); every restore
// is byte-identical.
func TestE2EKeyFileWhenPassphraseLost(t *testing.T) {
	d := startDaemon(t, "")
	specs := make([]string, 6)
	for i := range specs {
		specs[i] = filepath.Join(d.dir, "shards", fmt.Sprint(i))
	}
	pf := filepath.Join(d.dir, "prod.pass")
	os.WriteFile(pf, []byte("a long enough passphrase\n"), 0o600)
	d.must("vault", "create", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--vault", "prod", "--share", src)
	d.must("backup", "files")
	kf := filepath.Join(d.dir, "prod.key")
	d.must("vault", "key", "export", "prod", "--to", kf)
	if err := os.Remove(pf); err != nil {
		t.Fatal(err)
	}
	if err := d.kill(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.start()
	if _, errOut, code := d.run("restore", "share", "files", "--point", "latest", "--to", filepath.Join(d.dir, "r0")); code == 0 || !strings.Contains(errOut, "locked") {
		t.Fatalf("restore from a locked vault: exit %d %s", code, errOut)
	}
	other := filepath.Join(d.dir, "other.key")
	os.WriteFile(other, []byte(`{"format":"rewind vault key","version":2,"master":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`), 0o600)
	if _, errOut, code := d.run("vault", "unlock", "prod", "--key-file", other); code == 0 || !strings.Contains(errOut, "another vault's key") {
		t.Fatalf("unlock with a wrong key file: exit %d %s", code, errOut)
	}
	d.must("vault", "unlock", "prod", "--key-file", kf)
	r1 := filepath.Join(d.dir, "r1")
	d.must("restore", "share", "files", "--point", "latest", "--to", r1)
	compareTrees(t, src, r1)

	np := filepath.Join(d.dir, "new.pass")
	os.WriteFile(np, []byte("the new passphrase\n"), 0o600)
	d.must("vault", "passphrase", "change", "prod", "--key-file", kf, "--new-passphrase-file", np)
	if err := d.kill(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.start()
	d.must("vault", "unlock", "prod", "--passphrase-file", np)
	d.must("backup", "files")

	// A second host (its own data directory) with only the key file.
	d2 := startDaemon(t, "")
	if _, errOut, code := d2.run("vault", "attach", "prod", "--shards", strings.Join(specs, ","), "--key-file", kf); code == 0 || !strings.Contains(errOut, "--takeover") {
		t.Fatalf("attach while the first host holds the lease: exit %d %s", code, errOut)
	}
	d2.must("vault", "attach", "prod", "--shards", strings.Join(specs, ","), "--key-file", kf, "--takeover")
	var pts []map[string]any
	d2.jsonOf(&pts, "points", "files")
	if len(pts) != 2 {
		t.Fatalf("points on the second host: %v", pts)
	}
	r2 := filepath.Join(d2.dir, "r2")
	d2.must("restore", "share", "files", "--point", "latest", "--to", r2)
	compareTrees(t, src, r2)
}
