package daemon

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// TestSelectPaths runs against a real ext4 made by mke2fs -d: requested
// paths are cleaned, checked, sorted, and those inside another requested
// path are left out ("a-b" sorts between "a" and "a/b" and stays).
func TestSelectPaths(t *testing.T) {
	if _, err := exec.LookPath("mke2fs"); err != nil {
		t.Fatal("mke2fs is not installed: apt-get install e2fsprogs")
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	for _, d := range []string{"a/b", "a-b", "c"} {
		if err := os.MkdirAll(filepath.Join(src, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(tmp, "fs.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 4<<20)
	if out, err := exec.Command("mke2fs", "-q", "-t", "ext4", "-d", src, img).CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v\n%s", err, out)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fsys, err := guest.OpenFS(context.Background(), f, 4<<20, guest.TypeExt4)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   []string
		want string
		err  bool
	}{
		{in: []string{"a/b", "/a-b/", "a", "../../c"}, want: "a a-b c"},
		{in: []string{"c", "/"}, want: ""},
		{in: []string{"a/b/../b", "a/b"}, want: "a/b"},
		{in: []string{"nope"}, err: true},
		{in: []string{"a\x00"}, err: true},
	} {
		got, err := selectPaths(fsys, c.in)
		if (err != nil) != c.err || strings.Join(got, " ") != c.want {
			t.Errorf("selectPaths(%q) = %q, %v; want %q (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}
