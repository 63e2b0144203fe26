package fileshare

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestSmokeMem(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "a/b"), 0o755)
	os.WriteFile(filepath.Join(src, "a/b/small"), []byte("hello"), 0o640)
	big := make([]byte, 5<<20+123)
	for i := range big {
		big[i] = byte(i * 7 / 3)
	}
	os.WriteFile(filepath.Join(src, "big"), big, 0o600)
	os.Symlink("a/b/small", filepath.Join(src, "link"))
	os.Link(filepath.Join(src, "big"), filepath.Join(src, "a/hard"))
	m := newMemStore()
	res, err := Backup(ctx, m, m, src, [32]byte{}, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	dst := filepath.Join(t.TempDir(), "out")
	rr, err := Restore(ctx, m, res.Root, dst, RestoreOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rr)
	out, _ := exec.Command("diff", "-r", "--no-dereference", src, dst).CombinedOutput()
	if len(out) > 0 {
		t.Fatal(string(out))
	}
	res2, err := Backup(ctx, m, m, src, res.Root, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res2)
}
