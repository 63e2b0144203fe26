package fileshare

import (
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// needTool fails (not skips) when a tool the test needs is missing.
func needTool(t testing.TB, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found: install it (apt-get install %s)", tool, pkg)
	}
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randData(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func writeFile(t testing.TB, p string, data []byte, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, data, mode))
	must(t, os.Chmod(p, mode))
}

// buildFullTree makes a tree with every entry type and the awkward cases.
func buildFullTree(t *testing.T, root string) {
	needTool(t, "setfacl", "acl")
	needTool(t, "setfattr", "attr")
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, inlineMax - 1, inlineMax, inlineMax + 1, 4096, MinChunk - 1, MinChunk, MinChunk + 1,
		AvgChunk, MaxChunk - 1, MaxChunk, MaxChunk + 1, 2*MaxChunk + 7}
	for _, n := range sizes {
		writeFile(t, filepath.Join(root, "sizes", "f"+itoa(n)), randData(r, n), 0o644)
	}
	odd := []string{"new\nline", "\xff\xfe invalid utf8", strings.Repeat("x", 255), " lead space", "-dash",
		"*?[glob]", "ünï€", "tab\there", "back\\slash", ".hidden"}
	for i, n := range odd {
		writeFile(t, filepath.Join(root, "odd", n), randData(r, 100*i), 0o600)
	}
	must(t, os.MkdirAll(filepath.Join(root, "odd", strings.Repeat("d", 255), "\x01ctl"), 0o755))
	deep := filepath.Join(root, "deep")
	for i := 0; i < 300; i++ {
		deep = filepath.Join(deep, "level"+itoa(i%10))
	}
	writeFile(t, filepath.Join(deep, "bottom"), []byte("deep file"), 0o644)
	// sparse: 1 GiB with 4 KiB of data in the middle and a byte at the end
	sp := filepath.Join(root, "sparse", "big")
	writeFile(t, sp, nil, 0o644)
	f, err := os.OpenFile(sp, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt(randData(r, 4096), 512<<20)
	must(t, err)
	must(t, f.Truncate(1<<30))
	must(t, f.Close())
	// hardlinks: a group of three across directories, and a pair
	writeFile(t, filepath.Join(root, "links", "a", "orig"), randData(r, 300000), 0o640)
	must(t, os.MkdirAll(filepath.Join(root, "links", "b"), 0o755))
	must(t, os.Link(filepath.Join(root, "links", "a", "orig"), filepath.Join(root, "links", "b", "second")))
	must(t, os.Link(filepath.Join(root, "links", "a", "orig"), filepath.Join(root, "links", "0first")))
	writeFile(t, filepath.Join(root, "links", "small"), []byte("tiny"), 0o600)
	must(t, os.Link(filepath.Join(root, "links", "small"), filepath.Join(root, "links", "small2")))
	// symlinks
	must(t, os.MkdirAll(filepath.Join(root, "sym"), 0o755))
	must(t, os.Symlink("../sizes/f1", filepath.Join(root, "sym", "rel")))
	must(t, os.Symlink("/etc/passwd", filepath.Join(root, "sym", "abs")))
	must(t, os.Symlink("nowhere/at/all", filepath.Join(root, "sym", "dangling")))
	must(t, os.Symlink("../links", filepath.Join(root, "sym", "todir")))
	// specials
	must(t, os.MkdirAll(filepath.Join(root, "special"), 0o755))
	must(t, unix.Mkfifo(filepath.Join(root, "special", "fifo"), 0o640))
	must(t, unix.Mknod(filepath.Join(root, "special", "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(t, unix.Mknod(filepath.Join(root, "special", "loop"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 200))))
	// modes, owners, xattrs, ACLs
	writeFile(t, filepath.Join(root, "meta", "suid"), []byte("#!/bin/sh\n"), 0o755)
	must(t, unix.Chmod(filepath.Join(root, "meta", "suid"), 0o4755))
	must(t, os.MkdirAll(filepath.Join(root, "meta", "sticky"), 0o755))
	must(t, unix.Chmod(filepath.Join(root, "meta", "sticky"), 0o1777))
	must(t, os.MkdirAll(filepath.Join(root, "meta", "sgid"), 0o755))
	must(t, unix.Chmod(filepath.Join(root, "meta", "sgid"), 0o2750))
	writeFile(t, filepath.Join(root, "meta", "none"), []byte("no perms"), 0)
	writeFile(t, filepath.Join(root, "meta", "owned"), []byte("owned"), 0o644)
	must(t, os.Lchown(filepath.Join(root, "meta", "owned"), 1234, 5678))
	must(t, os.Lchown(filepath.Join(root, "sym", "rel"), 4321, 8765))
	run(t, "setfattr", "-n", "user.comment", "-v", "hello", filepath.Join(root, "meta", "owned"))
	run(t, "setfattr", "-n", "user.bin", "-v", "0x00ff00", filepath.Join(root, "meta", "owned"))
	run(t, "setfattr", "-n", "user.dir", "-v", "on a dir", filepath.Join(root, "meta"))
	run(t, "setfattr", "-n", "trusted.sym", "-v", "on a symlink", "-h", filepath.Join(root, "sym", "abs"))
	writeFile(t, filepath.Join(root, "meta", "acl"), []byte("acl"), 0o640)
	run(t, "setfacl", "-m", "u:1234:rwx,g:99:r", filepath.Join(root, "meta", "acl"))
	must(t, os.MkdirAll(filepath.Join(root, "meta", "defacl", "child"), 0o755))
	writeFile(t, filepath.Join(root, "meta", "defacl", "plain"), []byte("no acl of its own"), 0o644)
	run(t, "setfacl", "-d", "-m", "u:1234:rx", filepath.Join(root, "meta", "defacl"))
	run(t, "setfattr", "-n", "user.root", "-v", "top", root)
	// times: distinct atime and mtime with nanoseconds, on everything
	must(t, filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		at := time.Unix(1500000000+int64(len(p)), 123456789)
		mt := time.Unix(1600000000+int64(len(p)), 987654321)
		ts := []unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(mt.UnixNano())}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	}))
}

// listenSocket creates a unix socket in the tree; closing removes it.
func listenSocket(t *testing.T, p string) net.Listener {
	l, err := net.Listen("unix", p)
	must(t, err)
	return l
}

func itoa(n int) string { return strconv.Itoa(n) }

func newRand() *rand.Rand { return rand.New(rand.NewPCG(11, 12)) }
