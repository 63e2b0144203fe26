package fidelity

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func needTools(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the fidelity corpus needs root (devices, owners, capabilities)")
	}
	for tool, pkg := range Tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				t.Fatalf("%s is not installed: run \"make test-deps\" (apt-get install %s)", tool, pkg)
			}
		}
	}
}

// TestDiffReportsEveryKind builds the corpus, copies it with the kernel's
// own link/attribute calls (cp -a --sparse=always), checks the copy has no
// difference, then injects one difference of each kind and expects every
// one reported in one Diff.
func TestDiffReportsEveryKind(t *testing.T) {
	needTools(t)
	base := t.TempDir()
	src, cp := filepath.Join(base, "src"), filepath.Join(base, "cp")
	if err := Build(src); err != nil {
		t.Fatal(err)
	}
	opts := Options{NoRootMeta: true, NoDirAtime: true, NoSymlinkAtime: true}
	want, err := Scan(src) // before cp reads it and moves atimes
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", "--sparse=always", src, cp).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v: %s", err, out)
	}
	got, err := Scan(cp)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(want, got, opts); len(d) != 0 {
		t.Fatalf("an exact copy differs:\n%s", strings.Join(d, "\n"))
	}
	inject := []struct {
		path, want string
		do         func(p string) error
	}{
		{"xattr/file", "mode", func(p string) error { return unix.Chmod(p, 0o600) }},
		{"acl/file", "owner", func(p string) error { return unix.Lchown(p, 5, -1) }},
		{"dev/tty5", "rdev", func(p string) error {
			os.Remove(p)
			return unix.Mknod(p, unix.S_IFCHR|0o660, int(unix.Mkdev(4, 6)))
		}},
		{"links/fifo2", "link group", func(p string) error {
			os.Remove(p)
			return unix.Mkfifo(p, 0o640)
		}},
		{"times/past", "size", func(p string) error { return os.Truncate(p, 3) }},
		{"times/future", "mtime", func(p string) error {
			var st unix.Stat_t
			unix.Stat(p, &st)
			st.Mtim.Nsec++
			return unix.UtimesNano(p, []unix.Timespec{st.Atim, st.Mtim})
		}},
		{"times/dir", "xattr user.extra", func(p string) error { return unix.Setxattr(p, "user.extra", []byte("1"), 0) }},
		{"acl/shared", "ACL system.posix_acl_default", func(p string) error { return unix.Removexattr(p, "system.posix_acl_default") }},
		{"xattr/capfile", "xattr security.capability", func(p string) error { return unix.Removexattr(p, "security.capability") }},
		{"links/file", "content hash", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("L"), 0)
			return err
		}},
		{"sparse/holes", "data map", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 4096), 1<<20) // zeros, but allocated
			return err
		}},
		{"times/link", "symlink target", func(p string) error {
			os.Remove(p)
			return os.Symlink("past", p)
		}},
		{"xattr/sgid", "missing", func(p string) error { return os.Remove(p) }},
	}
	for _, c := range inject {
		if err := c.do(filepath.Join(cp, c.path)); err != nil {
			t.Fatalf("inject %s into %s: %v", c.want, c.path, err)
		}
	}
	if got, err = Scan(cp); err != nil {
		t.Fatal(err)
	}
	diffs := Diff(want, got, opts)
	report := strings.Join(diffs, "\n")
	for _, c := range inject {
		if !strings.Contains(report, c.path+": "+c.want) {
			t.Errorf("injected %s at %s, not reported", c.want, c.path)
		}
	}
	if !strings.Contains(report, "links/fifo: nlink") {
		t.Errorf("the unlinked FIFO's nlink change is not reported")
	}
	if t.Failed() {
		t.Logf("report:\n%s", report)
	}
}
