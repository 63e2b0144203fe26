package fsmount

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/sys/unix"
)

var t0 = time.Date(2026, 11, 20, 2, 30, 0, 0, time.UTC)

// mountSample mounts a loaded sample tree as item "files", one point at t0.
func mountSample(t *testing.T, special bool, opts Options) (orig, point string, f *fixture) {
	orig = t.TempDir()
	makeSample(t, orig, special)
	f = newFixture()
	f.add("files", t0, loadTree(t, orig))
	_, dir := mountT(t, f.cat, f.open, opts)
	return orig, filepath.Join(dir, "files", PointName(t0)), f
}

func TestFSConformance(t *testing.T) {
	orig, point, _ := mountSample(t, false, Options{})
	var want []string
	filepath.WalkDir(orig, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(orig, p)
		if rel != "." && !strings.HasPrefix(rel, "big/") {
			want = append(want, rel)
		}
		return nil
	})
	if err := fstest.TestFS(os.DirFS(point), want...); err != nil {
		t.Fatal(err)
	}
}

func TestTreeMatchesOriginal(t *testing.T) {
	orig, point, _ := mountSample(t, true, Options{})
	compareTrees(t, orig, point)
}

func TestSparseSeek(t *testing.T) {
	_, point, _ := mountSample(t, false, Options{})
	got := holes(filepath.Join(point, "sparse"), 10<<20)
	if want := "[1048576,1052672)[7340032,7348224)"; got != want {
		t.Fatalf("data ranges %s, want %s", got, want)
	}
	if got := holes(filepath.Join(point, "a.txt"), 14); got != "[0,14)" {
		t.Fatalf("dense file data ranges %s", got)
	}
}

func TestHardlinksShareInode(t *testing.T) {
	_, point, _ := mountSample(t, false, Options{})
	var a, b unix.Stat_t
	unix.Stat(filepath.Join(point, "hard1"), &a)
	unix.Stat(filepath.Join(point, "sub", "hard2"), &b)
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Fatalf("hard1 ino %d nlink %d, hard2 ino %d", a.Ino, a.Nlink, b.Ino)
	}
	ents, err := os.ReadDir(point)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "hard1" {
			fi, _ := e.Info()
			if fi.Sys().(*syscall.Stat_t).Ino != a.Ino {
				t.Fatal("readdir and stat disagree on the inode")
			}
		}
	}
}

func TestBigDirectory(t *testing.T) {
	_, point, _ := mountSample(t, false, Options{})
	ents, err := os.ReadDir(filepath.Join(point, "big"))
	if err != nil || len(ents) != 1500 {
		t.Fatalf("%d entries, %v", len(ents), err)
	}
	// telldir/seekdir across response boundaries: "ls" twice on one handle.
	d, err := os.Open(filepath.Join(point, "big"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first, _ := d.Readdirnames(700)
	if _, err := d.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	again, _ := d.Readdirnames(-1)
	if len(again) != 1500 || again[0] != first[0] {
		t.Fatalf("after rewind %d names", len(again))
	}
}

func TestWritesFailEROFS(t *testing.T) {
	_, point, _ := mountSample(t, false, Options{})
	p := func(s string) string { return filepath.Join(point, s) }
	checks := map[string]error{
		"mkdir":       os.Mkdir(p("new"), 0o755),
		"create":      os.WriteFile(p("new.txt"), nil, 0o644),
		"unlink":      os.Remove(p("a.txt")),
		"rmdir":       os.Remove(p("big")),
		"rename":      os.Rename(p("a.txt"), p("b.txt")),
		"chmod":       os.Chmod(p("a.txt"), 0o777),
		"chown":       os.Lchown(p("a.txt"), 1, 1),
		"truncate":    os.Truncate(p("a.txt"), 0),
		"utimes":      os.Chtimes(p("a.txt"), time.Now(), time.Now()),
		"link":        os.Link(p("a.txt"), p("a2")),
		"symlink":     os.Symlink("x", p("s2")),
		"setxattr":    unix.Setxattr(p("a.txt"), "user.x", []byte("1"), 0),
		"removexattr": unix.Removexattr(p("a.txt"), "user.color"),
		"mknod":       unix.Mkfifo(p("fifo2"), 0o644),
	}
	for _, fl := range []int{os.O_WRONLY, os.O_RDWR, os.O_RDONLY | os.O_TRUNC, os.O_WRONLY | os.O_APPEND} {
		f, err := os.OpenFile(p("a.txt"), fl, 0)
		if err == nil {
			f.Close()
		}
		checks[fmt.Sprintf("open flags %#x", fl)] = err
	}
	for op, err := range checks {
		if !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s: %v, want EROFS", op, err)
		}
	}
	if b, err := os.ReadFile(p("a.txt")); err != nil || string(b) != "hello, rewind\n" {
		t.Fatalf("a.txt after write attempts: %q %v", b, err)
	}
}

func TestNodeWriteOpsEROFS(t *testing.T) {
	// The kernel refuses writes on the MS_RDONLY mount before asking; the
	// handlers are the second line and must say EROFS too.
	var r readOnly
	ctx := context.TODO()
	errs := []syscall.Errno{
		r.Setattr(ctx, nil, nil, nil), r.Setxattr(ctx, "", nil, 0), r.Removexattr(ctx, ""),
		r.Unlink(ctx, ""), r.Rmdir(ctx, ""), r.Rename(ctx, "", nil, "", 0), r.Allocate(ctx, nil, 0, 0, 0),
	}
	_, e := r.Mkdir(ctx, "", 0, nil)
	errs = append(errs, e)
	_, e = r.Mknod(ctx, "", 0, 0, nil)
	errs = append(errs, e)
	_, e = r.Link(ctx, nil, "", nil)
	errs = append(errs, e)
	_, e = r.Symlink(ctx, "", "", nil)
	errs = append(errs, e)
	_, _, _, e = r.Create(ctx, "", 0, 0, nil)
	errs = append(errs, e)
	_, e = r.Write(ctx, nil, nil, 0)
	errs = append(errs, e)
	_, e = r.CopyFileRange(ctx, nil, 0, nil, nil, 0, 0, 0)
	errs = append(errs, e)
	var f fileNode
	_, _, e = f.Open(ctx, syscall.O_RDWR)
	errs = append(errs, e)
	for i, e := range errs {
		if e != syscall.EROFS {
			t.Errorf("op %d: %v", i, e)
		}
	}
}

// asNobody runs cat as uid/gid 65534 and returns its output and error.
func asNobody(t *testing.T, file string) (string, error) { return nobody(t, "cat", file) }

// nobody runs a command as uid/gid 65534 without supplementary groups.
func nobody(t *testing.T, args ...string) (string, error) {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv not found: apt-get install util-linux")
	}
	args = append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, args...)
	out, err := exec.Command(setpriv, args...).CombinedOutput()
	return string(out), err
}

// openUp lets others traverse to a mount point made under t.TempDir (0700).
func openUp(t *testing.T, dir string) {
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
}

func TestPermissionsEnforced(t *testing.T) {
	orig := t.TempDir()
	makeSample(t, orig, false)
	f := newFixture()
	f.add("files", t0, loadTree(t, orig))
	mnt := t.TempDir()
	openUp(t, mnt)
	m, err := mount(t.Context(), mnt, f.cat, f.open, Options{AllowOther: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Unmount() })
	point := filepath.Join(mnt, "files", PointName(t0))
	if out, err := asNobody(t, filepath.Join(point, "a.txt")); err != nil || out != "hello, rewind\n" {
		t.Fatalf("nobody reading a 0644 file: %q %v", out, err)
	}
	out, err := asNobody(t, filepath.Join(point, "secret"))
	if err == nil || !strings.Contains(out, "Permission denied") {
		t.Fatalf("nobody read a 0600 root file: %q %v", out, err)
	}
	if b, err := os.ReadFile(filepath.Join(point, "secret")); err != nil || string(b) != "root only\n" {
		t.Fatalf("root reading secret: %q %v", b, err)
	}
}

func TestNoAllowOtherKeepsOthersOut(t *testing.T) {
	f := newFixture()
	f.add("files", t0, loadTree(t, t.TempDir()))
	mnt := t.TempDir()
	openUp(t, mnt)
	m, err := mount(t.Context(), mnt, f.cat, f.open, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Unmount() })
	if out, err := nobody(t, "ls", mnt); err == nil || !strings.Contains(out, "Permission denied") {
		t.Fatalf("nobody listed a mount without allow_other: %s", out)
	}
}

func TestConcurrentReaders(t *testing.T) {
	_, point, _ := mountSample(t, false, Options{})
	want, _ := os.ReadFile(filepath.Join(point, "sub/dir/b.bin"))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := os.Open(filepath.Join(point, "sub/dir/b.bin"))
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			buf := make([]byte, 3000)
			for i := range 200 {
				off := int64((g*7919 + i*104729) % (len(want) - len(buf)))
				if _, err := f.ReadAt(buf, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf, want[off:off+int64(len(buf))]) {
					errs <- errors.New("content differs")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func isMounted(t *testing.T, dir string) bool {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), " "+dir+" fuse.rewind ")
}

func TestUnmountBusyDetaches(t *testing.T) {
	_, point, _ := mountSample(t, false, Options{})
	dir := filepath.Dir(filepath.Dir(point))
	f, err := os.Open(filepath.Join(point, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !isMounted(t, dir) {
		t.Fatal("not in /proc/self/mounts")
	}
	testMountsMu.Lock()
	m := testMounts[dir]
	testMountsMu.Unlock()
	if err := m.Unmount(); err != nil {
		t.Fatal(err)
	}
	if isMounted(t, dir) {
		t.Fatal("busy mount still attached after Unmount")
	}
	f.Close()
	done := make(chan struct{})
	go func() { m.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop after the last file closed")
	}
}
