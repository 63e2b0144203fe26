package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDataDirLock starts a second daemon on a running daemon's data
// directory (with its own socket): it must exit non-zero at once, name the
// holder's pid, and never say "ready"; the first daemon keeps serving.
func TestDataDirLock(t *testing.T) {
	a := startDaemon(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rewindBin, "daemon", "--config", a.config, "--data", a.data,
		"--socket", filepath.Join(t.TempDir(), "b.sock"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Fatalf("second daemon on the same data dir: err %v, want a non-zero exit\n%s", err, logs.String())
	}
	pid := strconv.Itoa(a.cmd.Process.Pid)
	if out := logs.String(); !strings.Contains(out, "pid "+pid) || strings.Contains(out, "ready") {
		t.Fatalf("second daemon's output does not name holder pid %s (or says ready):\n%s", pid, out)
	}
	if b, err := os.ReadFile(filepath.Join(a.data, "daemon.lock")); err != nil || strings.TrimSpace(string(b)) != pid {
		t.Fatalf("lock file holds %q (%v), want the first daemon's pid %s", b, err, pid)
	}
	a.must("status")
	a.stop()
	a.start() // the lock is released on exit: the same data dir starts again
	a.must("status")
}

// TestTwoHostsOneVault is the disaster-recovery drill while the old host
// still lives, on directory shard targets: host B's attach is refused
// naming host A; with --takeover B owns the vault, A's next backup fails
// with the takeover named and A shows the vault fenced; B's verify
// --read-data is clean and every point restores.
func TestTwoHostsOneVault(t *testing.T) {
	shards := t.TempDir()
	specs := make([]string, 6)
	for i := range specs {
		specs[i] = filepath.Join(shards, strconv.Itoa(i))
	}
	twoHosts(t, specs)
}

// twoHosts runs the two-host drill on a 4+2 vault with the given targets.
func twoHosts(t *testing.T, specs []string) {
	a, b := startDaemon(t, ""), startDaemon(t, "")
	pf := filepath.Join(t.TempDir(), "prod.pass")
	os.WriteFile(pf, []byte("a long enough passphrase\n"), 0o600)
	a.must("vault", "create", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf)
	src := filepath.Join(t.TempDir(), "share")
	makeTree(t, src)
	a.must("item", "add", "files", "--vault", "prod", "--share", src)
	a.must("backup", "files")

	idA := readHostID(t, a)
	attach := []string{"vault", "attach", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf}
	_, errOut, code := b.run(attach...)
	if code == 0 || !strings.Contains(errOut, idA) || !strings.Contains(errOut, "--takeover") {
		t.Fatalf("attach on host B while A owns the vault: exit %d, want a refusal naming host %s:\n%s", code, idA, errOut)
	}
	b.must(append(attach, "--takeover")...)
	b.must("backup", "files")

	os.WriteFile(filepath.Join(src, "new-on-a.txt"), []byte("written after the takeover\n"), 0o644)
	out, errOut, code := a.run("backup", "files")
	idB := readHostID(t, b)
	if code == 0 || !strings.Contains(out+errOut, "taken over by host "+idB) {
		t.Fatalf("backup on the fenced host A: exit %d, want a failure naming host %s:\n%s%s", code, idB, out, errOut)
	}
	for _, args := range [][]string{{"vault", "list"}, {"status"}} {
		if got := a.must(args...); !strings.Contains(got, "fenced") {
			t.Errorf("rewind %s on the fenced host does not say so:\n%s", strings.Join(args, " "), got)
		}
	}
	if !strings.Contains(a.logs.String(), "taken over") {
		t.Errorf("host A's log does not record the takeover")
	}

	b.must("verify", "prod", "--read-data")
	var points []map[string]any
	b.jsonOf(&points, "points", "files")
	if len(points) != 2 {
		t.Fatalf("host B has %d points, want A's and its own: %v", len(points), points)
	}
	for i, p := range points {
		dst := filepath.Join(t.TempDir(), "restored"+strconv.Itoa(i))
		b.must("restore", "share", "files", "--point", fmt.Sprint(p["id"]), "--to", dst)
	}
	os.Remove(filepath.Join(src, "new-on-a.txt"))
	dst := filepath.Join(t.TempDir(), "latest")
	b.must("restore", "share", "files", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)
}

func readHostID(t *testing.T, d *daemonProc) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.data, "host-id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestTwoHostsOneS3Vault is the same drill on three MinIO servers (two
// shards each): the lease is created with If-None-Match and renewed with
// If-Match on its ETag.
func TestTwoHostsOneS3Vault(t *testing.T) {
	_, specs := s3Vault(t, true)
	twoHosts(t, specs)
}

// TestFencedOnRenewal: with short leases, host A learns of B's takeover at
// its next renewal without writing anything, and shows the vault fenced;
// once A is stopped and its lease has run out, a third host attaches
// without --takeover.
func TestFencedOnRenewal(t *testing.T) {
	const cfg = "owner_lease_renew = \"1s\"\nowner_lease_valid = \"3s\"\n"
	a, b, c := startDaemon(t, cfg), startDaemon(t, cfg), startDaemon(t, cfg)
	shards := t.TempDir()
	specs := make([]string, 6)
	for i := range specs {
		specs[i] = filepath.Join(shards, strconv.Itoa(i))
	}
	pf := filepath.Join(t.TempDir(), "prod.pass")
	os.WriteFile(pf, []byte("a long enough passphrase\n"), 0o600)
	a.must("vault", "create", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf)
	a.must("item", "add", "files", "--vault", "prod", "--share", t.TempDir())
	eventually(t, 30*time.Second, "A's first catalog checkpoint", func() bool {
		m, _ := filepath.Glob(filepath.Join(specs[0], "catalog", "*"))
		return len(m) > 0
	})
	attach := []string{"vault", "attach", "prod", "--shards", strings.Join(specs, ","), "--passphrase-file", pf}
	b.must(append(attach, "--takeover")...)
	eventually(t, 30*time.Second, "host A to notice the takeover at a renewal", func() bool {
		out, _, _ := a.run("vault", "list")
		return strings.Contains(out, "fenced")
	})
	b.stop()
	_, errOut, code := c.run(attach...)
	if code != 0 {
		t.Logf("attach right after B stopped: %s", errOut) // B's lease may still be live
		eventually(t, 30*time.Second, "B's lease to run out", func() bool {
			_, _, code := c.run(attach...)
			return code == 0
		})
	}
	var v map[string]any
	c.jsonOf(&v, "vault", "show", "prod")
	if o, _ := v["owner"].(map[string]any); o == nil || o["epoch"] != float64(3) {
		t.Fatalf("owner after the third attach: %v, want epoch 3", v["owner"])
	}
}
