package pathsafe

import (
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

const testUser = "rewind-pathsafe"

// testUID creates (once) an unprivileged user and returns its uid.
func testUID(t *testing.T) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("pathsafe tests need root: they create a user (useradd) and chown symlinks to it")
	}
	if _, err := user.Lookup(testUser); err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", testUser).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v\n%s (install the passwd package)", testUser, err, out)
		}
	}
	u, err := user.Lookup(testUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

// tree builds under a fresh directory (itself below the sticky, world
// writable /tmp): dirs, files, root-owned links and links owned by the test
// user.
func tree(t *testing.T) string {
	uid := testUID(t)
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(p string) { must(t, os.MkdirAll(filepath.Join(base, p), 0o755)) }
	link := func(target, p string, owner int) {
		must(t, os.Symlink(target, filepath.Join(base, p)))
		must(t, os.Lchown(filepath.Join(base, p), owner, owner))
	}
	mk("a/b")
	mk("rootonly/secret")
	mk("home/user")
	must(t, os.Chown(filepath.Join(base, "home/user"), uid, uid))
	mk("sticky/theirs")
	must(t, os.Chmod(filepath.Join(base, "sticky"), 0o1777))
	must(t, os.Chown(filepath.Join(base, "sticky/theirs"), uid, uid))
	must(t, os.WriteFile(filepath.Join(base, "a/file"), []byte("x"), 0o644))
	link("b", "a/rlink", 0)                                          // root-owned, relative
	link(filepath.Join(base, "a/b"), "a/rabs", 0)                    // root-owned, absolute
	link("../rootonly/secret", "a/ulink", uid)                       // user-owned
	link(filepath.Join(base, "rootonly"), "home/user/restored", uid) // finding 6
	link("loop2", "a/loop1", 0)
	link("loop1", "a/loop2", 0)
	return base
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	base := tree(t)
	cases := []struct {
		name    string
		path    string
		opts    Options
		want    string // canonical path, relative to base
		missing int
		err     error // wanted with errors.Is (nil: success)
		unsafe  string
	}{
		{name: "relative", path: "a/b", err: ErrRelative},
		{name: "dir", path: base + "/a/b", want: "a/b"},
		{name: "dot and slashes", path: base + "//a/./b/", want: "a/b"},
		{name: "dotdot", path: base + "/a/b/../file", want: "a/file"},
		{name: "root link relative", path: base + "/a/rlink", want: "a/b"},
		{name: "root link absolute", path: base + "/a/rabs/..", want: "a"},
		{name: "root link then dotdot is the real parent", path: base + "/a/rlink/../file", want: "a/file"},
		{name: "user link last", path: base + "/a/ulink", unsafe: "a/ulink"},
		{name: "user link inside", path: base + "/a/ulink/x", unsafe: "a/ulink"},
		{name: "user's link into root dir (finding 6)", path: base + "/home/user/restored", unsafe: "home/user/restored"},
		{name: "user's link with create", path: base + "/home/user/restored/new", opts: Options{Create: true}, unsafe: "home/user/restored"},
		{name: "loop", path: base + "/a/loop1", err: unix.ELOOP},
		{name: "file as dir", path: base + "/a/file/x", err: unix.ENOTDIR},
		{name: "missing", path: base + "/a/nope", err: unix.ENOENT},
		{name: "missing allowed", path: base + "/a/rlink/x/y", opts: Options{AllowMissing: true}, want: "a/b/x/y", missing: 2},
		{name: "dotdot after missing", path: base + "/a/x/../b", opts: Options{AllowMissing: true}, err: unix.ENOENT},
		{name: "create", path: base + "/a/rlink/new/sub", opts: Options{Create: true}, want: "a/b/new/sub"},
		{name: "create then dotdot", path: base + "/a/c/../d", opts: Options{Create: true}, want: "a/d"},
		{name: "file last", path: base + "/a/file", want: "a/file"},
		{name: "sticky world-writable parent is ordinary", path: base + "/sticky/theirs", want: "sticky/theirs"},
		{name: "user-owned directory is ordinary", path: base + "/home/user", want: "home/user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg, err := Resolve(c.path, c.opts)
			if c.unsafe != "" {
				var ue *UnsafeLinkError
				if !errors.As(err, &ue) || ue.Link != filepath.Join(base, c.unsafe) || ue.Owner == "" {
					t.Fatalf("Resolve(%s) = %v, want an unsafe link error naming %s", c.path, err, c.unsafe)
				}
				t.Logf("%v", err)
				return
			}
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("Resolve(%s) = %v, want %v", c.path, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%s): %v", c.path, err)
			}
			defer tg.Close()
			if want := filepath.Join(base, c.want); tg.Path != want || len(tg.Missing) != c.missing {
				t.Fatalf("Resolve(%s) = %s missing %v, want %s missing %d", c.path, tg.Path, tg.Missing, want, c.missing)
			}
			checkFDs(t, tg)
		})
	}
	if _, err := os.Stat(filepath.Join(base, "rootonly/new")); err == nil {
		t.Fatal("create through a user's symlink made a directory behind it")
	}
	if st, err := os.Stat(filepath.Join(base, "a/b/new")); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("created directory: %v %v, want mode 0755", st, err)
	}
}

// checkFDs proves the descriptors are the path's and its parent's.
func checkFDs(t *testing.T, tg *Target) {
	t.Helper()
	var parent, self unix.Stat_t
	must(t, unix.Fstat(tg.Dir, &parent))
	want := filepath.Dir(tg.Path)
	if len(tg.Missing) > 0 {
		want = filepath.Join(append([]string{"/"}, splitMust(t, tg.Path)[:len(splitMust(t, tg.Path))-len(tg.Missing)]...)...)
	}
	if !sameAs(t, &parent, want) {
		t.Fatalf("Dir is not %s", want)
	}
	if tg.Exists() {
		must(t, unix.Fstat(tg.FD, &self))
		if !sameAs(t, &self, tg.Path) {
			t.Fatalf("FD is not %s", tg.Path)
		}
	}
}

func splitMust(t *testing.T, p string) []string {
	c, err := Split(p)
	must(t, err)
	return c
}

func sameAs(t *testing.T, st *unix.Stat_t, p string) bool {
	var o unix.Stat_t
	must(t, unix.Lstat(p, &o))
	return o.Dev == st.Dev && o.Ino == st.Ino
}

func TestResolveRoot(t *testing.T) {
	tg, err := Resolve("/", Options{})
	must(t, err)
	defer tg.Close()
	if tg.Path != "/" || !tg.IsDir() {
		t.Fatalf("Resolve(/) = %+v", tg)
	}
	tg2, err := Resolve("/..", Options{})
	must(t, err)
	defer tg2.Close()
	if tg2.Path != "/" {
		t.Fatalf("Resolve(/..) = %s", tg2.Path)
	}
}

func TestOpenFile(t *testing.T) {
	base := tree(t)
	tg, err := Resolve(base+"/a/rlink/new.img", Options{AllowMissing: true})
	must(t, err)
	f, err := tg.OpenFile(unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600)
	must(t, err)
	f.Close()
	tg.Close()
	if _, err := os.Stat(base + "/a/b/new.img"); err != nil {
		t.Fatal(err)
	}
	// Replaced between Resolve and OpenFile: refused.
	tg, err = Resolve(base+"/a/file", Options{})
	must(t, err)
	defer tg.Close()
	must(t, os.Remove(base+"/a/file"))
	must(t, os.WriteFile(base+"/a/file", []byte("other"), 0o644))
	if f, err := tg.OpenFile(unix.O_RDWR, 0); err == nil {
		f.Close()
		t.Fatal("OpenFile opened a file that replaced the resolved one")
	}
	// Replaced by a symlink: never followed.
	must(t, os.Remove(base+"/a/file"))
	must(t, os.Symlink(base+"/rootonly/secret", base+"/a/file"))
	if f, err := tg.OpenFile(unix.O_RDONLY, 0); err == nil {
		f.Close()
		t.Fatal("OpenFile followed a symlink")
	}
	// A directory's descriptor opens for reading.
	d, err := Resolve(base+"/a/rlink", Options{})
	must(t, err)
	defer d.Close()
	df, err := d.OpenDir()
	must(t, err)
	names, _ := df.Readdirnames(-1)
	df.Close()
	if len(names) != 1 || names[0] != "new.img" {
		t.Fatalf("OpenDir lists %v", names)
	}
}
