package guest

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// protofile writes an mkfs.xfs prototype file describing dir.
func protofile(t testing.TB, dir, out string) {
	var b strings.Builder
	b.WriteString("rewind\n0 0\n")
	var walk func(p string, depth int)
	walk = func(p string, depth int) {
		ents, err := os.ReadDir(p)
		must(t, err)
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		for _, e := range ents {
			full := filepath.Join(p, e.Name())
			fi, err := os.Lstat(full)
			must(t, err)
			st := statT(fi)
			perm := fmt.Sprintf("%03o", fi.Mode().Perm())
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(full)
				fmt.Fprintf(&b, "%s l--%s %d %d %s\n", e.Name(), perm, st[0], st[1], target)
			case fi.IsDir():
				fmt.Fprintf(&b, "%s d--%s %d %d\n", e.Name(), perm, st[0], st[1])
				walk(full, depth+1)
				b.WriteString("$\n")
			default:
				fmt.Fprintf(&b, "%s ---%s %d %d %s\n", e.Name(), perm, st[0], st[1], full)
			}
		}
	}
	fi, err := os.Stat(dir)
	must(t, err)
	fmt.Fprintf(&b, "d--%03o 0 0\n", fi.Mode().Perm())
	walk(dir, 0)
	b.WriteString("$\n")
	must(t, os.WriteFile(out, []byte(b.String()), 0o644))
}

func mkXFS(t testing.TB, img, dir string, size int64, extra ...string) {
	sparseFile(t, img, size)
	proto := img + ".proto"
	protofile(t, dir, proto)
	run(t, "mkfs.xfs", append(append([]string{"-q", "-f", "-p", proto}, extra...), img)...)
}

func TestXFS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		many  int
		extra []string
	}{
		{"v5-leaf", 400, nil},
		{"v5-node-1k", 3000, []string{"-b", "size=1024"}},
		{"v4", 50, []string{"-m", "crc=0", "-n", "ftype=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now().Add(-time.Second)
			tmp := t.TempDir()
			src := filepath.Join(tmp, "src")
			makeTree(t, src, treeOpts{symlinks: true, owners: true, many: tc.many})
			img := filepath.Join(tmp, "xfs.img")
			mkXFS(t, img, src, 320<<20, tc.extra...)
			r, size := openImage(t, img)
			if got := detect(r, size); got != TypeXFS {
				t.Fatalf("detect = %s", got)
			}
			fsys, err := OpenFS(testCtx(t), r, size, TypeXFS)
			if err != nil {
				t.Fatal(err)
			}
			// mkfs.xfs -p sets every time to "now", so mtimes are not compared
			compareTree(t, fsys, src, cmpOpts{modes: true, symlinks: true, mtime: -1})
			e, err := fsys.Stat("hello.txt")
			if err != nil || e.ModTime.Before(start) || e.ModTime.After(time.Now().Add(time.Second)) {
				t.Errorf("hello.txt mtime %v (err %v) not near now", e.ModTime, err)
			}
			if tc.name == "v5-leaf" {
				if err := fstestSub(fsys, "dir"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestXFSKernelWritten fills an XFS volume through the kernel (loop mount,
// cp -a --sparse=always), which keeps mtimes and holes: the sparse file gets
// a btree-format fork and the 5000-entry directory a node directory.
func TestXFSKernelWritten(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	makeTree(t, src, treeOpts{symlinks: true, owners: true, many: 5000})
	img := filepath.Join(tmp, "xfs.img")
	sparseFile(t, img, 320<<20)
	run(t, "mkfs.xfs", "-q", "-f", img)
	mnt := filepath.Join(tmp, "mnt")
	must(t, os.Mkdir(mnt, 0o755))
	run(t, "mount", "-o", "loop", img, mnt)
	mounted := true
	t.Cleanup(func() {
		if mounted {
			exec.Command("umount", mnt).Run()
		}
	})
	run(t, "cp", "-a", "--sparse=always", src+"/.", mnt+"/")
	run(t, "umount", mnt)
	mounted = false
	r, size := openImage(t, img)
	fsys, err := OpenFS(testCtx(t), r, size, TypeXFS)
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, fsys, src, cmpOpts{modes: true, symlinks: true, mtime: 0})
	e, err := fsys.Stat("sparse.bin")
	must(t, err)
	x := fsys.(*tree).b.(*xfsFS)
	in, err := x.inode(e.Ino)
	must(t, err)
	if in.format() != 3 {
		t.Errorf("sparse.bin fork format %d, want 3 (btree): the test does not cover btree forks", in.format())
	}
}
