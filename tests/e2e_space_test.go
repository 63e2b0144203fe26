package tests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// loopExt4 mounts a fresh ext4 file system of size bytes at dir (created)
// and unmounts it at cleanup.
func loopExt4(t *testing.T, dir string, size int64) {
	t.Helper()
	need(t, "mkfs.ext4", "mount", "umount")
	img := dir + ".img"
	f, err := os.Create(img)
	if err == nil {
		err = errors.Join(f.Truncate(size), f.Close())
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"mkfs.ext4", "-q", "-F", img}, {"mkdir", "-p", dir}, {"mount", "-o", "loop", img, dir}} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() {
		// The harness detaches mounts under the daemon's dir when it stops it.
		if err := syscall.Unmount(dir, 0); err != nil && err != syscall.EINVAL {
			t.Errorf("umount %s: %v", dir, err)
		}
		os.Remove(img)
	})
}

// fill writes path until the file system says ENOSPC.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			return
		}
	}
}

// TestE2EFullDataDirIsSurvivable: on a small loop-mounted ext4 data dir with
// the shards elsewhere, a full disk refuses new backups with a clear message
// while the daemon lives on: status says why, restore and verify work, the
// ballast was given up, SIGTERM stops it, and it starts again on the full disk.
func TestE2EFullDataDirIsSurvivable(t *testing.T) {
	dir := t.TempDir()
	d := &daemonProc{t: t, dir: dir, data: filepath.Join(dir, "data"), socket: filepath.Join(dir, "rewind.sock"),
		config: filepath.Join(dir, "rewind.toml")}
	loopExt4(t, d.data, 256<<20)
	if err := os.WriteFile(d.config, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	t.Cleanup(d.stop)
	if fi, err := os.Stat(filepath.Join(d.data, "ballast")); err != nil || fi.Size() != 64<<20 {
		t.Fatalf("no 64 MiB ballast in the data dir: %v", err)
	}
	var shards []string
	for i := range 6 {
		shards = append(shards, filepath.Join(dir, fmt.Sprintf("shard%d", i)))
	}
	pf := filepath.Join(dir, "pass")
	if err := os.WriteFile(pf, []byte("correct horse battery staple\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.must("vault", "create", "prod", "--shards", strings.Join(shards, ","), "--passphrase-file", pf)
	src := filepath.Join(dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--vault", "prod", "--share", src)
	d.must("backup", "files")

	fill(t, filepath.Join(d.data, "filler"))
	out, errOut, code := d.run("backup", "files")
	if code == 0 || !strings.Contains(errOut+out, "below the reserve") || !strings.Contains(errOut+out, d.data) {
		t.Fatalf("backup on a full data dir: exit %d, want a refusal naming %s and the reserve:\n%s%s", code, d.data, out, errOut)
	}
	if st := d.must("status"); !strings.Contains(st, "read-only for new backups") {
		t.Fatalf("status does not say why backups are refused:\n%s", st)
	}
	dst := filepath.Join(dir, "restored")
	d.must("restore", "share", "files", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)
	d.must("verify", "prod")

	d.restartWith() // SIGTERM on a full disk, then start on it
	if _, err := os.Stat(filepath.Join(d.data, "ballast")); !os.IsNotExist(err) {
		t.Fatalf("ballast kept on a full data dir: %v", err)
	}
	if st := d.must("status"); !strings.Contains(st, "read-only for new backups") {
		t.Fatalf("status after a start on a full disk:\n%s", st)
	}
	var points []map[string]any
	d.jsonOf(&points, "points", "files")
	if len(points) != 1 {
		t.Fatalf("points after a start on a full disk: %v", points)
	}
	if err := os.Remove(filepath.Join(d.data, "filler")); err != nil {
		t.Fatal(err)
	}
	d.must("vault", "unlock", "prod", "--passphrase-file", pf)
	d.must("backup", "files")
	if _, err := os.Stat(filepath.Join(d.data, "ballast.removed")); !os.IsNotExist(err) {
		t.Fatalf("a backup ran while the ballast is still given up: %v", err)
	}
}
