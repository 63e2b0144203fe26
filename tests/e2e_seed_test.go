package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeedExportImport carries a share's first full point through a seed
// directory into a new item, restores it, and refuses tampered and
// truncated seeds naming the bad object.
func TestSeedExportImport(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	seed := filepath.Join(d.dir, "seed")
	d.must("seed", "export", "files", "--to", seed)

	bad := filepath.Join(d.dir, "bad")
	copyDir(t, seed, bad)
	pack := filepath.Join(bad, "pack-000001.dat")
	b, _ := os.ReadFile(pack)
	b[len(b)/2] ^= 0x40
	os.WriteFile(pack, b, 0o600)
	if _, errOut, code := d.run("seed", "import", bad, "--item", "tampered"); code == 0 || !strings.Contains(errOut, "pack-000001.dat") {
		t.Fatalf("a tampered seed: exit %d %q", code, errOut)
	}
	os.WriteFile(pack, b[:len(b)-100], 0o600)
	if _, errOut, code := d.run("seed", "import", bad, "--item", "tampered"); code == 0 || !strings.Contains(errOut, "pack-000001.dat") {
		t.Fatalf("a truncated seed: exit %d %q", code, errOut)
	}
	if _, _, code := d.run("item", "show", "tampered"); code != 4 {
		t.Fatal("a refused seed must leave no item behind")
	}

	d.must("seed", "import", seed, "--item", "seeded")
	dst := filepath.Join(d.dir, "restored")
	d.must("restore", "share", "seeded", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)
	os.WriteFile(filepath.Join(src, "more.txt"), []byte("after the seed"), 0o644)
	d.must("backup", "seeded")
	var points []map[string]any
	d.jsonOf(&points, "points", "seeded")
	if len(points) != 2 || points[1]["kind"] != "incremental" {
		t.Fatalf("the backup after a seed is incremental on top of it: %v", points)
	}
}

func copyDir(t testing.TB, from, to string) {
	t.Helper()
	os.MkdirAll(to, 0o700)
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(to, e.Name()), b, 0o600)
	}
}
