package tests

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// oldestSegmentShards lists the shard files of the vault's first segment.
func oldestSegmentShards(t *testing.T, vaultDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vaultDir, "shards", "*", "seg", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no shard files under %s: %v", vaultDir, err)
	}
	sort.Slice(files, func(i, j int) bool { return filepath.Base(files[i]) < filepath.Base(files[j]) })
	first := strings.SplitN(filepath.Base(files[0]), ".", 2)[0]
	var out []string
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), first+".") {
			out = append(out, f)
		}
	}
	return out
}

func vaultDegraded(t *testing.T, d *daemonProc, name string) bool {
	t.Helper()
	var vaults []struct {
		Name     string `json:"name"`
		Degraded bool   `json:"degraded"`
	}
	d.jsonOf(&vaults, "vault", "list")
	for _, v := range vaults {
		if v.Name == name {
			return v.Degraded
		}
	}
	t.Fatalf("vault %s not listed: %+v", name, vaults)
	return false
}

// TestE2ELostShardsFailRestore: with 3 of 6 shards of a segment gone, a share
// restore fails (exit 1) naming the file, segment, chunk and point, leaves no
// file in place of the lost one, and verify marks the vault degraded.
func TestE2ELostShardsFailRestore(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(src, "lost.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	d.createVault("prod")
	d.must("item", "add", "files", "--vault", "prod", "--share", src)
	d.must("backup", "files")
	vdir := filepath.Join(d.data, "vaults", "prod")
	lost := oldestSegmentShards(t, vdir)
	if err := os.WriteFile(filepath.Join(src, "new.txt"), []byte("later"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.must("backup", "files") // a new root directory, in a new segment
	if vaultDegraded(t, d, "prod") {
		t.Fatal("vault degraded before any damage")
	}
	for _, f := range lost[:3] {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(d.dir, "restored")
	out, errOut, code := d.run("restore", "share", "files", "--point", "latest", "--to", dst)
	msg := out + errOut
	if code != 1 || !strings.Contains(msg, "lost.bin") || !strings.Contains(msg, "segment") ||
		!strings.Contains(msg, "chunk") || !strings.Contains(msg, "point") {
		t.Fatalf("restore with lost shards: exit %d, want 1 naming lost.bin, segment, chunk and point:\n%s", code, msg)
	}
	if _, err := os.Lstat(filepath.Join(dst, "lost.bin")); !os.IsNotExist(err) {
		t.Fatalf("lost.bin left in the restore target: %v", err)
	}
	d.run("verify", "prod")
	if !vaultDegraded(t, d, "prod") {
		t.Fatal("vault not degraded after verify found 3 missing shards")
	}
	var st struct {
		Vaults []struct {
			Name     string `json:"name"`
			Degraded bool   `json:"degraded"`
		} `json:"vaults"`
	}
	d.jsonOf(&st, "status")
	for _, v := range st.Vaults {
		if v.Name == "prod" && !v.Degraded {
			t.Fatalf("status does not show the vault degraded: %+v", st)
		}
	}
}

// TestE2EReadOnlyShardTargetDegrades: one read-only shard directory of six
// does not fail a backup; the segment is written degraded and the vault says so.
func TestE2EReadOnlyShardTargetDegrades(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.createVault("prod")
	d.must("item", "add", "files", "--vault", "prod", "--share", src)
	shard := filepath.Join(d.data, "vaults", "prod", "shards", "3")
	if out, err := exec.Command("mount", "--bind", shard, shard).CombinedOutput(); err != nil {
		t.Fatalf("bind mount %s: %v %s", shard, err, out)
	}
	t.Cleanup(func() { syscall.Unmount(shard, syscall.MNT_DETACH) })
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", shard).CombinedOutput(); err != nil {
		t.Fatalf("remount %s read-only: %v %s", shard, err, out)
	}
	out := d.must("backup", "files")
	if !strings.Contains(out, "completed") {
		t.Fatalf("backup with one read-only target: %s", out)
	}
	if !vaultDegraded(t, d, "prod") {
		t.Fatal("vault not degraded after a backup with a read-only target")
	}
	if err := syscall.Unmount(shard, 0); err != nil {
		t.Fatal(err)
	}
	d.must("repair", "prod")
	if vaultDegraded(t, d, "prod") {
		t.Fatal("vault still degraded after repair with the target back")
	}
	dst := filepath.Join(d.dir, "restored")
	d.must("restore", "share", "files", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)
}
