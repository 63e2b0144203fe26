package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAttachAfterLosingTheHost: a vault's shards live outside the data
// directory; the data directory is deleted entirely; a fresh daemon attaches
// the vault from its shard targets and restores from it.
func TestAttachAfterLosingTheHost(t *testing.T) {
	d := startDaemon(t, "")
	shardDir := filepath.Join(d.dir, "shards")
	specs := make([]string, 6)
	for i := range specs {
		specs[i] = filepath.Join(shardDir, fmt.Sprint(i))
	}
	pf := filepath.Join(d.dir, "prod.pass")
	os.WriteFile(pf, []byte("a long enough passphrase\n"), 0o600)
	d.must("vault", "create", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--vault", "prod", "--share", src)
	d.must("backup", "files")
	var before []map[string]any
	d.jsonOf(&before, "points", "files")
	if err := d.kill(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(d.data); err != nil {
		t.Fatal(err)
	}
	d.start()
	if _, errOut, code := d.run("vault", "attach", "prod", "--shards", strings.Join(specs[:4], ","), "--passphrase-file", pf); code == 0 {
		t.Fatalf("attach with a shard missing from the list must fail: %s", errOut)
	}
	// The old host's owner lease is still live (it stopped seconds ago):
	// a plain attach is refused, --takeover is the lost-host drill.
	if _, errOut, code := d.run("vault", "attach", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf); code == 0 || !strings.Contains(errOut, "--takeover") {
		t.Fatalf("attach while the old owner's lease is live: exit %d, %s", code, errOut)
	}
	d.must("vault", "attach", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf, "--takeover")
	var after []map[string]any
	d.jsonOf(&after, "points", "files")
	if len(after) != len(before) || after[0]["id"] != before[0]["id"] {
		t.Fatalf("points after attach %v, before %v", after, before)
	}
	dst := filepath.Join(d.dir, "restored")
	d.must("restore", "share", "files", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)
	d.must("backup", "files")
	d.must("verify", "prod", "--read-data")
}
