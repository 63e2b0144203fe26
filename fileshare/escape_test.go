package fileshare

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// hostilePoint stores a point whose top directory holds entries as given,
// bypassing every check the capture side would apply.
func hostilePoint(t *testing.T, s *blockstore.Store, entries ...*Node) blockstore.ID {
	ids := putRaw(t, s, encodeLeaf(entries))
	root := &Node{Type: TypeDir, Mode: 0o755, subtree: ids[0]}
	return putRaw(t, s, encodeRoot(root))[0]
}

func inlineFile(name string) *Node {
	return &Node{Name: name, Type: TypeFile, Mode: 0o644, Size: 5, inline: []byte("pwned")}
}

// outsideEntries lists everything under base except the restore target.
func outsideEntries(t *testing.T, base, dst string) []string {
	var out []string
	must(t, filepath.Walk(base, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == dst {
			return filepath.SkipDir
		}
		if p != base && p != filepath.Join(base, "outside") {
			out = append(out, p)
		}
		return nil
	}))
	return out
}

func TestRestoreCannotEscape(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	empty := putRaw(t, s, encodeLeaf(nil))[0]
	cases := map[string][]*Node{
		"dotdot":         {inlineFile("..")},
		"dot":            {inlineFile(".")},
		"slash in name":  {inlineFile("a/../../outside/x")},
		"absolute name":  {inlineFile("/tmp/x")},
		"dotdot dir":     {{Name: "..", Type: TypeDir, Mode: 0o777, subtree: putRaw(t, s, encodeLeaf([]*Node{inlineFile("x")}))[0]}},
		"empty name":     {inlineFile("")},
		"nul in name":    {inlineFile("a\x00b")},
		"unsorted dupes": {inlineFile("b"), inlineFile("a")},
		"duplicate":      {inlineFile("a"), inlineFile("a")},
		"symlink then link through it": {
			{Name: "esc", Type: TypeSymlink, Mode: 0o777, Target: "../outside"},
			{Name: "h", Type: TypeFile, Mode: 0o644, Size: 5, inline: []byte("pwned"), Nlink: 2, LinkPath: "esc/victim"},
		},
		"absolute symlink and dir under it": {
			{Name: "abs", Type: TypeSymlink, Mode: 0o777, Target: "/"},
			{Name: "dir", Type: TypeDir, Mode: 0o755, subtree: empty},
		},
		"hardlink path with dotdot": {
			{Name: "h", Type: TypeFile, Mode: 0o644, Size: 5, inline: []byte("pwned"), Nlink: 2, LinkPath: "../outside/x"},
		},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			must(t, os.Mkdir(filepath.Join(base, "outside"), 0o755))
			dst := filepath.Join(base, "dst")
			root := hostilePoint(t, s, entries...)
			for _, paths := range [][]string{nil, {"esc/victim"}, {"abs/tmp"}} {
				rr, err := Restore(ctx, s, root, dst, RestoreOptions{Paths: paths, Conflict: ConflictOverwrite})
				must(t, err)
				if len(entries) == 1 && entries[0].LinkPath == "" && !hasWarning(rr.Warnings, "corruption") {
					t.Fatalf("hostile entry %q restored without a corruption warning: %q", entries[0].Name, rr.Warnings)
				}
				if out := outsideEntries(t, base, dst); len(out) != 0 {
					t.Fatalf("restore wrote outside the target: %q", out)
				}
			}
			ents, _ := os.ReadDir(filepath.Join(base, "outside"))
			if len(ents) != 0 {
				t.Fatalf("restore wrote into the outside directory: %v", ents)
			}
		})
	}
}

// TestRestoreThroughPlantedSymlink: at an original location, a directory of
// the point exists as a symlink pointing outside; no conflict mode follows it.
func TestRestoreThroughPlantedSymlink(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "d", "f"), []byte("from backup"), 0o644)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	for _, mode := range []Conflict{ConflictRefuse, ConflictSkip, ConflictRename, ConflictOverwrite} {
		base := t.TempDir()
		outside := filepath.Join(base, "outside")
		must(t, os.Mkdir(outside, 0o755))
		dst := filepath.Join(base, "dst")
		must(t, os.Mkdir(dst, 0o755))
		must(t, os.Symlink(outside, filepath.Join(dst, "d")))
		_, err := Restore(ctx, s, res.Root, dst, RestoreOptions{Conflict: mode})
		if mode == ConflictRefuse && !errors.Is(err, ErrConflict) {
			t.Fatalf("mode %q: err %v, want ErrConflict", mode, err)
		}
		if ents, _ := os.ReadDir(outside); len(ents) != 0 {
			t.Fatalf("mode %q: restore wrote through the symlink: %v", mode, ents)
		}
	}
}
