package fileshare

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRoundTripEveryEntryType(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	buildFullTree(t, src)
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	if len(res.Warnings) != 0 {
		t.Fatalf("warnings: %q", res.Warnings)
	}
	if res.BytesRead > 64<<20 {
		t.Errorf("read %d bytes: the 1 GiB sparse file's holes were read", res.BytesRead)
	}
	// an unchanged tree yields the same root (deterministic, atime untouched)
	if again := backupTo(t, s, src, res.Root, BackupOptions{}); again.Root != res.Root || again.FilesRead != 0 {
		t.Errorf("second backup of an unchanged tree: root %s != %s, read %d files", again.Root, res.Root, again.FilesRead)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	rr, err := Restore(ctx, s, res.Root, dst, RestoreOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Warnings) != 0 || len(rr.Mismatches) != 0 || rr.Verified == 0 {
		t.Fatalf("restore: warnings %q mismatches %q verified %d", rr.Warnings, rr.Mismatches, rr.Verified)
	}
	if d := diffTrees(src, dst); len(d) != 0 {
		t.Fatalf("restored tree differs:\n%s", strings.Join(d, "\n"))
	}
	// into an existing empty directory (as the daemon does): the same
	empty := t.TempDir()
	if _, err := Restore(ctx, s, res.Root, empty, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if d := diffTrees(src, empty); len(d) != 0 {
		t.Fatalf("restore into an empty directory differs:\n%s", strings.Join(d, "\n"))
	}
}

// TestCompareCatchesDifferences proves the comparison helper is not blind:
// each deliberate alteration of a restored tree is reported.
func TestCompareCatchesDifferences(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	buildFullTree(t, src)
	// cp reads without O_NOATIME: let it move the atimes once, then scan
	run(t, "cp", "-a", "--sparse=always", src, filepath.Join(t.TempDir(), "warm"))
	before, err := scanTree(src)
	must(t, err)
	alter := map[string]func(dst string) error{
		"dropped xattr": func(d string) error { return unix.Removexattr(filepath.Join(d, "meta", "owned"), "user.comment") },
		"dropped acl": func(d string) error {
			return unix.Removexattr(filepath.Join(d, "meta", "acl"), "system.posix_acl_access")
		},
		"mode bit": func(d string) error { return unix.Chmod(filepath.Join(d, "meta", "suid"), 0o755) },
		"owner":    func(d string) error { return os.Lchown(filepath.Join(d, "meta", "owned"), 1234, 5679) },
		"content": func(d string) error {
			return os.WriteFile(filepath.Join(d, "sizes", "f4096"), make([]byte, 4096), 0o644)
		},
		"hole filled": func(d string) error {
			f, err := os.OpenFile(filepath.Join(d, "sparse", "big"), os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 4096), 0)
			return err
		},
		"symlink target": func(d string) error {
			p := filepath.Join(d, "sym", "abs")
			os.Remove(p)
			return os.Symlink("/etc/shadow", p)
		},
		"hardlink broken": func(d string) error {
			p := filepath.Join(d, "links", "small2")
			os.Remove(p)
			return os.WriteFile(p, []byte("tiny"), 0o600)
		},
	}
	for name, fn := range alter {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			run(t, "cp", "-a", "--sparse=always", src, dst)
			if d := diffScan(before, dst); len(d) != 0 {
				t.Fatalf("cp -a copy already differs (helper too strict?):\n%s", strings.Join(d, "\n"))
			}
			must(t, fn(dst))
			if d := diffScan(before, dst); len(d) == 0 {
				t.Fatalf("alteration %q not detected", name)
			}
		})
	}
}
