package vmdisk

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// backupT runs a backup, flushes the writer and runs the after-commit step.
func backupT(t *testing.T, ts *testStore, src string, prev *Prev, opts BackupOptions) *BackupResult {
	t.Helper()
	ctx := context.Background()
	w := ts.NewWriter()
	defer w.Close()
	res, err := Backup(ctx, w, ts, src, prev, opts)
	if err != nil {
		t.Fatalf("backup %s: %v", src, err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := res.Commit(ctx); err != nil {
		t.Fatalf("commit step: %v", err)
	}
	return res
}

func prevOf(res *BackupResult) *Prev {
	return &Prev{Root: res.Root, SourceState: res.SourceState, Chain: res.Chain}
}

// writeAt writes n random (or pattern) bytes into path at off.
func writeAt(t *testing.T, path string, off int64, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func sparseFile(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// sameFiles fails unless a and b have identical contents.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	fa, err := os.Open(a)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; off += 1 << 20 {
		na, ea := io.ReadFull(fa, ba)
		nb, _ := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			t.Fatalf("%s and %s differ in the MiB at %d (lengths %d/%d)", a, b, off, na, nb)
		}
		if ea != nil {
			return
		}
	}
}

// restoreT restores root into a new file and returns its path.
func restoreT(t *testing.T, ts *testStore, root Prev, opts RestoreOptions) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "restored.img")
	opts.Verify = true
	if _, err := Restore(context.Background(), ts, root.Root, out, opts); err != nil {
		t.Fatalf("restore: %v", err)
	}
	return out
}

// needTool fails the test when a command is missing.
func needTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: apt-get install -y %s (or make test-deps)", name, pkg)
	}
}

// run runs a command and fails the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func execCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
