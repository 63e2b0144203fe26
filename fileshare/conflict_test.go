package fileshare

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}

func TestRestoreConflictModes(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "f"), []byte("backup f"), 0o644)
	writeFile(t, filepath.Join(src, "new"), []byte("backup new"), 0o644)
	writeFile(t, filepath.Join(src, "dir", "g"), []byte("backup g"), 0o644)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	setup := func() string {
		dst := filepath.Join(t.TempDir(), "orig")
		writeFile(t, filepath.Join(dst, "f"), []byte("live f"), 0o644)
		writeFile(t, filepath.Join(dst, "dir", "g"), []byte("live g"), 0o644)
		return dst
	}

	dst := setup()
	rr, err := Restore(ctx, s, res.Root, dst, RestoreOptions{})
	if !errors.Is(err, ErrConflict) || len(rr.Conflicts) != 2 {
		t.Fatalf("default: err %v conflicts %q, want ErrConflict naming /f and /dir/g", err, rr.Conflicts)
	}
	if _, err := os.Stat(filepath.Join(dst, "new")); !os.IsNotExist(err) {
		t.Fatal("default mode wrote something despite conflicts")
	}

	dst = setup()
	_, err = Restore(ctx, s, res.Root, dst, RestoreOptions{Conflict: ConflictSkip})
	must(t, err)
	if readString(t, filepath.Join(dst, "f")) != "live f" || readString(t, filepath.Join(dst, "new")) != "backup new" {
		t.Fatal("skip: existing file replaced or missing file not restored")
	}

	dst = setup()
	_, err = Restore(ctx, s, res.Root, dst, RestoreOptions{Conflict: ConflictOverwrite})
	must(t, err)
	if readString(t, filepath.Join(dst, "f")) != "backup f" || readString(t, filepath.Join(dst, "dir", "g")) != "backup g" {
		t.Fatal("overwrite: existing files not replaced")
	}

	dst = setup()
	_, err = Restore(ctx, s, res.Root, dst, RestoreOptions{Conflict: ConflictRename})
	must(t, err)
	if readString(t, filepath.Join(dst, "f")) != "live f" || readString(t, filepath.Join(dst, "f.restored")) != "backup f" {
		t.Fatal("rename: want the live file kept and the backup's next to it")
	}
	_, err = Restore(ctx, s, res.Root, dst, RestoreOptions{Conflict: ConflictRename})
	must(t, err)
	if readString(t, filepath.Join(dst, "f.restored-2")) != "backup f" {
		t.Fatal("rename twice: want f.restored-2")
	}
	if _, err := Restore(ctx, s, res.Root, dst, RestoreOptions{Conflict: "merge"}); err == nil {
		t.Fatal("unknown conflict mode accepted")
	}
}

func TestRestorePaths(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "a", "b", "c"), []byte("c"), 0o644)
	writeFile(t, filepath.Join(src, "a", "b", "d", "e"), []byte("e"), 0o644)
	writeFile(t, filepath.Join(src, "a", "x"), []byte("x"), 0o644)
	writeFile(t, filepath.Join(src, "z"), []byte("z"), 0o644)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	dst := filepath.Join(t.TempDir(), "dst")
	rr, err := Restore(ctx, s, res.Root, dst, RestoreOptions{Paths: []string{"a/b", "/z", "missing/file"}})
	must(t, err)
	for p, want := range map[string]bool{"a/b/c": true, "a/b/d/e": true, "z": true, "a/x": false} {
		_, err := os.Stat(filepath.Join(dst, p))
		if (err == nil) != want {
			t.Errorf("%s restored=%v, want %v", p, err == nil, want)
		}
	}
	if !hasWarning(rr.Warnings, "missing/file", "not in the recovery point") {
		t.Errorf("warnings %q: want the missing path named", rr.Warnings)
	}
	if _, err := Restore(ctx, s, res.Root, dst, RestoreOptions{Paths: []string{"a/../../etc"}}); err == nil {
		t.Fatal("a path with .. accepted")
	}
}
