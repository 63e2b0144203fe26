package seed

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/fileshare"
)

var pass = []byte("seed passphrase")

func makeShare(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "share")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello seed\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "big"), bytes.Repeat([]byte("0123456789abcdef"), 200000), 0o600)
	return dir
}

func newSeed(t *testing.T) (string, *Manifest) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "seed")
	m, err := Create(context.Background(), CreateOptions{Dir: dir, Share: makeShare(t), Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

// copySeed gives a test its own copy to damage.
func copySeed(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", dir, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

// TestSeedRoundTrip: a share seed opens with its passphrase and its tree
// re-keys into another store with every file intact.
func TestSeedRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir, m := newSeed(t)
	if m.Kind != KindShare || m.SourceBytes != 11+3200000 || len(m.Packs) < 2 {
		t.Fatalf("manifest %+v", m)
	}
	if _, err := Open(ctx, dir, []byte("wrong passphrase"), t.TempDir()); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	s, err := Open(ctx, dir, pass, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	root := t.TempDir()
	ts, _ := blockstore.NewDirTarget(filepath.Join(root, "t"))
	vst, err := blockstore.Create(ctx, filepath.Join(root, "s"), []byte("vault passphrase"), []blockstore.Target{ts}, blockstore.Options{Layout: blockstore.Layout{DataShards: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer vst.Close()
	w := vst.NewWriter()
	nr, stored, err := fileshare.Rekey(ctx, s.Store, w, s.Manifest.Root)
	if err != nil || stored == 0 {
		t.Fatal(stored, err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := fileshare.OpenTree(ctx, vst, nr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := tr.Lookup(ctx, "sub/big")
	if err != nil || n.Size != 3200000 {
		t.Fatal(n, err)
	}
}

// TestSeedDamageNamesThePack: a flipped byte, a truncated pack, a removed
// pack and an extra object are each refused naming what is wrong.
func TestSeedDamageNamesThePack(t *testing.T) {
	ctx := context.Background()
	dir, m := newSeed(t)
	var seg Pack
	for _, p := range m.Packs {
		if p.Name != "keys/master" && p.Size > seg.Size {
			seg = p
		}
	}
	cases := map[string]func(d string) error{
		"tampered with": func(d string) error {
			f, err := os.OpenFile(filepath.Join(d, dataDir, seg.Name), os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte{0xff, 0x00, 0xff}, seg.Size/2)
			return err
		},
		"truncated": func(d string) error { return os.Truncate(filepath.Join(d, dataDir, seg.Name), seg.Size-100) },
		"missing":   func(d string) error { return os.Remove(filepath.Join(d, dataDir, seg.Name)) },
		"not in the manifest": func(d string) error {
			return os.WriteFile(filepath.Join(d, dataDir, "extra"), []byte("x"), 0o600)
		},
	}
	for want, damage := range cases {
		d := copySeed(t, dir)
		if err := damage(d); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, d, pass, t.TempDir())
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
		if want != "missing" && want != "not in the manifest" && !strings.Contains(err.Error(), seg.Name) {
			t.Errorf("%s: the error does not name pack %s: %v", want, seg.Name, err)
		}
	}
}

// TestSeedManifestAndMarker: a changed manifest fails authentication and a
// directory without the marker (a half-made seed) is no seed.
func TestSeedManifestAndMarker(t *testing.T) {
	ctx := context.Background()
	dir, _ := newSeed(t)
	d := copySeed(t, dir)
	p := filepath.Join(d, manifestName)
	b, _ := os.ReadFile(p)
	b[len(b)-5] ^= 1
	os.WriteFile(p, b, 0o600)
	if _, err := Open(ctx, d, pass, t.TempDir()); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "fails authentication") {
		t.Errorf("tampered manifest: %v", err)
	}
	d = copySeed(t, dir)
	os.Remove(filepath.Join(d, markerName))
	if _, err := Open(ctx, d, pass, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a complete seed") {
		t.Errorf("no marker: %v", err)
	}
}
