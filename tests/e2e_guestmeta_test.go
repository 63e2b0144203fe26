package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// guestCorpus fills dir with what a guest restore must bring back, made by
// the real tools: a setuid-root file, a file capability (setcap), access
// and default ACLs (setfacl), user xattrs, a hardlink pair, a 4 GiB sparse
// file, a FIFO, a device node, a symlink with its own times, a pre-1970
// time, another owner, and two files with the same basename.
func guestCorpus(t *testing.T, dir string) {
	t.Helper()
	p := func(name string) string { return filepath.Join(dir, name) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w := func(name, data string, mode os.FileMode) {
		t.Helper()
		must(os.MkdirAll(filepath.Dir(p(name)), 0o755))
		must(os.WriteFile(p(name), []byte(data), mode))
		must(unix.Chmod(p(name), uint32(mode))) // raw bits: 04755 is setuid here
	}
	w("bin/suid", "#!/bin/sh\necho hi\n", 0o4755)
	w("bin/capped", "cap", 0o755)
	sh(t, "setcap", "cap_net_raw+ep", p("bin/capped"))
	w("acl/file", "acl", 0o640)
	sh(t, "setfacl", "-m", "u:1234:rw,g:4321:r", p("acl/file"))
	sh(t, "setfacl", "-d", "-m", "u:99:rwx", p("acl"))
	sh(t, "setfattr", "-n", "user.note", "-v", "kept", p("acl/file"))
	w("links/one", "linked", 0o600)
	must(os.Link(p("links/one"), p("links/two")))
	f, err := os.Create(p("sparse"))
	must(err)
	_, err = f.WriteAt([]byte("middle of nowhere"), 2<<30)
	must(err)
	must(f.Truncate(4 << 30))
	must(f.Close())
	must(unix.Mkfifo(p("fifo"), 0o620))
	must(os.Mkdir(p("dev"), 0o755))
	must(unix.Mknod(p("dev/null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	must(os.Symlink("../acl/file", p("links/sym")))
	sh(t, "touch", "-h", "-d", "2001-02-03 04:05:06.123456789", p("links/sym"))
	w("old", "old", 0o644)
	sh(t, "touch", "-d", "1960-05-06 07:08:09.5", p("old"))
	w("a/conf", "a's conf", 0o644)
	w("b/conf", "b's conf", 0o644)
	must(os.Chown(p("b/conf"), 1001, 1002))
}

// ext4Disk builds a 256 MiB GPT disk whose partition 1 is an ext4 made by
// mke2fs -d from a guest corpus; it returns the disk and the partition's
// byte offset.
func ext4Disk(t *testing.T, dir string) (string, int64) {
	src := filepath.Join(dir, "guest-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	guestCorpus(t, src)
	disk := filepath.Join(dir, "ext4.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(disk, 256<<20)
	sh(t, "sgdisk", "-n", "1:2048:0", "-t", "1:8300", disk)
	sh(t, "mke2fs", "-q", "-t", "ext4", "-E", "offset=1048576,root_owner=0:0", "-d", src, disk, "200M")
	return disk, 1 << 20
}

// xfsDisk builds a whole-disk XFS image filled through a loop mount.
func xfsDisk(t *testing.T, dir string) string {
	disk := filepath.Join(dir, "xfs.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(disk, 320<<20)
	sh(t, "mkfs.xfs", "-q", "-f", disk)
	mnt := kernelMount(t, disk, 0, false)
	guestCorpus(t, mnt)
	sh(t, "umount", mnt)
	return disk
}

// kernelMount loop-mounts a file system of an image; it is unmounted when
// the test ends.
func kernelMount(t *testing.T, img string, offset int64, ro bool) string {
	mnt := t.TempDir()
	opt := fmt.Sprintf("loop,offset=%d", offset)
	if ro {
		opt += ",ro"
	}
	sh(t, "mount", "-o", opt, img, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}

// TestGuestFilesFidelity backs up an ext4 disk (mke2fs -d) and an XFS disk
// (filled through a loop mount), then compares with the kernel's own view
// of the same images: "restore files --path / --keep-privileges" as admin,
// and the mount's files/ directory. Without the flag the setuid bit, the
// capability and the device node are dropped with counted warnings. Two
// paths with the same basename restore side by side, and a restore over
// them is refused before anything is written. "cp -a" out of the mount
// keeps the 4 GiB sparse file sparse.
func TestGuestFilesFidelity(t *testing.T) {
	need(t, "sgdisk", "mke2fs", "mkfs.xfs", "setcap", "setfacl", "setfattr", "fusermount3")
	d := startDaemon(t, "")
	extImg, extOff := ext4Disk(t, d.dir)
	xfsImg := xfsDisk(t, d.dir)
	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	for _, c := range []struct {
		item, img, volume string
		off               int64
	}{{"vm-ext4", extImg, "1", extOff}, {"vm-xfs", xfsImg, "disk", 0}} {
		t.Run(c.item, func(t *testing.T) {
			d.must("item", "add", c.item, "--disk", c.img)
			d.must("backup", c.item)
			want := kernelMount(t, c.img, c.off, true)

			out := filepath.Join(d.dir, c.item+"-kept")
			d.must("restore", "files", c.item, "--point", "latest", "--volume", c.volume, "--path", "/", "--to", out, "--keep-privileges")
			reportDiffs(t, "restore --keep-privileges", metaDiffs(t, want, out, restoredCmp))
			checkSparse(t, filepath.Join(out, "sparse"))

			d.must("mount", mnt, "--item", c.item)
			files := filepath.Join(mnt, c.item, "latest", "files", c.volume)
			reportDiffs(t, "mount files/", metaDiffs(t, want, files, mountCmp))
			copied := filepath.Join(d.dir, c.item+"-cp-sparse")
			sh(t, "cp", "-a", filepath.Join(files, "sparse"), copied) // holes found with SEEK_DATA
			checkSparse(t, copied)
			d.must("umount", mnt)

			checkDropped(t, d, c.item, c.volume)
			checkSameBasename(t, d, c.item, c.volume)
		})
	}
}

func reportDiffs(t *testing.T, what string, diffs []string) {
	t.Helper()
	if len(diffs) > 0 {
		t.Errorf("%s: %d differences from the kernel's view:\n%s", what, len(diffs), strings.Join(diffs, "\n"))
	}
}

// checkSparse: the 4 GiB file with 17 bytes of data must not be written out.
func checkSparse(t *testing.T, p string) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 4<<30 || st.Blocks*512 > 1<<20 {
		t.Errorf("sparse file restored as %d bytes with %d bytes allocated, want 4 GiB with at most 1 MiB", st.Size, st.Blocks*512)
	}
}

// checkDropped restores without --keep-privileges: completed with warnings
// (exit 3) that count each dropped kind, and the privileges are gone.
func checkDropped(t *testing.T, d *daemonProc, item, volume string) {
	out := filepath.Join(d.dir, item+"-dropped")
	stdout, stderr, code := d.run("restore", "files", item, "--point", "latest", "--volume", volume, "--path", "/", "--to", out)
	if code != 3 {
		t.Fatalf("restore without --keep-privileges: exit %d, want 3 (warnings)\n%s%s", code, stdout, stderr)
	}
	for _, w := range []string{"dropped setuid/setgid bits of 1 entries", "dropped file capabilities (security.capability) of 1 entries",
		"dropped device nodes of 1 entries"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("warnings lack %q:\n%s", w, stdout)
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(out, "bin/suid"), &st); err != nil || st.Mode&0o7777 != 0o755 || st.Uid != 0 {
		t.Errorf("bin/suid restored with mode %o uid %d (%v), want 0755 owned by root", st.Mode&0o7777, st.Uid, err)
	}
	if _, err := unix.Lgetxattr(filepath.Join(out, "bin/capped"), "security.capability", make([]byte, 64)); !errors.Is(err, unix.ENODATA) {
		t.Errorf("bin/capped keeps its capability: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(out, "dev/null")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("device node restored without --keep-privileges: %v", err)
	}
	if err := unix.Lstat(filepath.Join(out, "b/conf"), &st); err != nil || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("b/conf owned by %d:%d (%v), want root", st.Uid, st.Gid, err)
	}
}

// checkSameBasename restores a/conf and b/conf side by side, then refuses
// a second restore over them without writing its other path.
func checkSameBasename(t *testing.T, d *daemonProc, item, volume string) {
	out := filepath.Join(d.dir, item+"-conf")
	d.must("restore", "files", item, "--point", "latest", "--volume", volume, "--path", "a/conf", "--path", "/b/conf", "--to", out, "--keep-privileges")
	for f, want := range map[string]string{"a/conf": "a's conf", "b/conf": "b's conf"} {
		if b, err := os.ReadFile(filepath.Join(out, f)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", f, b, err, want)
		}
	}
	if _, _, code := d.run("restore", "files", item, "--point", "latest", "--volume", volume, "--path", "old", "--path", "a/conf", "--to", out); code == 0 {
		t.Errorf("a restore over existing files succeeded")
	}
	if _, err := os.Lstat(filepath.Join(out, "old")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused restore wrote old: %v", err)
	}
}

// cmpOpts says what a copy is expected to keep.
type cmpOpts struct {
	ctime, blocks bool // the mount shows the guest's; a restore cannot
}

var (
	restoredCmp = cmpOpts{}
	mountCmp    = cmpOpts{ctime: true, blocks: true}
)

// metaDiffs compares every entry below want with the same path below got:
// type and mode, owners, rdev, size, link count and link groups,
// nanosecond atime and mtime (and ctime, st_blocks when o says), every
// xattr, the content and the SEEK_DATA/SEEK_HOLE map. It reports every
// difference. Metadata is read before any content (with O_NOATIME) and
// names come from want, so nothing read changes an atime compared.
func metaDiffs(t *testing.T, want, got string, o cmpOpts) []string {
	var rels []string
	filepath.WalkDir(want, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			t.Fatalf("walk %s: %v", want, err)
		}
		rel, _ := filepath.Rel(want, p)
		rels = append(rels, rel)
		return nil
	})
	var diffs []string
	add := func(rel, what string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			diffs = append(diffs, fmt.Sprintf("%s: %s %v, want %v", rel, what, g, w))
		}
	}
	wantGroup, gotGroup := map[uint64]string{}, map[uint64]string{}
	for _, rel := range rels {
		var ws, gs unix.Stat_t
		if err := unix.Lstat(filepath.Join(want, rel), &ws); err != nil {
			t.Fatal(err)
		}
		if err := unix.Lstat(filepath.Join(got, rel), &gs); err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: missing: %v", rel, err))
			continue
		}
		add(rel, "mode", fmt.Sprintf("%o", gs.Mode), fmt.Sprintf("%o", ws.Mode))
		add(rel, "owner", [2]uint32{gs.Uid, gs.Gid}, [2]uint32{ws.Uid, ws.Gid})
		add(rel, "rdev", gs.Rdev, ws.Rdev)
		add(rel, "nlink", gs.Nlink, ws.Nlink)
		if ws.Mode&unix.S_IFMT != unix.S_IFDIR {
			add(rel, "size", gs.Size, ws.Size)
			add(rel, "link group", firstOf(gotGroup, gs.Ino, rel), firstOf(wantGroup, ws.Ino, rel))
		}
		add(rel, "mtime", gs.Mtim, ws.Mtim)
		add(rel, "atime", gs.Atim, ws.Atim)
		if o.ctime {
			add(rel, "ctime", gs.Ctim, ws.Ctim)
		}
		if o.blocks {
			add(rel, "st_blocks", gs.Blocks, ws.Blocks)
		}
		add(rel, "xattrs", xattrDump(filepath.Join(got, rel)), xattrDump(filepath.Join(want, rel)))
	}
	for _, rel := range rels {
		p, q := filepath.Join(want, rel), filepath.Join(got, rel)
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
			wm, gm := dataMap(p), dataMap(q)
			add(rel, "content", sameContent(p, q, append(wm, gm...)), true)
			if !o.blocks { // another file system: data ranges round to its 4 KiB blocks
				wm, gm = roundMap(wm, fi.Size()), roundMap(gm, fi.Size())
			}
			add(rel, "data map", gm, wm)
		}
	}
	return append(diffs, extraEntries(got, rels)...)
}

// roundMap widens each range to 4 KiB boundaries (within size) and merges.
func roundMap(m [][2]int64, size int64) [][2]int64 {
	var out [][2]int64
	for _, r := range m {
		start, end := r[0]&^4095, min((r[0]+r[1]+4095)&^4095, size)
		if k := len(out); k > 0 && out[k-1][0]+out[k-1][1] >= start {
			out[k-1][1] = max(out[k-1][1], end-out[k-1][0])
			continue
		}
		out = append(out, [2]int64{start, end - start})
	}
	return out
}

// sameContent compares two files over the given ranges (the data of
// either); everything else is a hole in both.
func sameContent(p, q string, ranges [][2]int64) string {
	f, err := openNoatime(p)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	g, err := openNoatime(q)
	if err != nil {
		return err.Error()
	}
	defer g.Close()
	for _, r := range ranges {
		a, b := make([]byte, r[1]), make([]byte, r[1])
		na, _ := f.ReadAt(a, r[0])
		nb, _ := g.ReadAt(b, r[0])
		if na != nb || !bytes.Equal(a[:na], b[:nb]) {
			return fmt.Sprintf("differs in %d+%d", r[0], r[1])
		}
	}
	return "true"
}

func firstOf(m map[uint64]string, ino uint64, rel string) string {
	if f, ok := m[ino]; ok {
		return f
	}
	m[ino] = rel
	return rel
}

// extraEntries lists what got holds beyond rels.
func extraEntries(got string, rels []string) []string {
	known := map[string]bool{}
	for _, r := range rels {
		known[r] = true
	}
	var out []string
	filepath.WalkDir(got, func(p string, _ os.DirEntry, err error) error {
		rel, _ := filepath.Rel(got, p)
		if err == nil && !known[rel] {
			out = append(out, rel+": not in the original")
		}
		return nil
	})
	return out
}

func xattrDump(p string) string {
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return "error: " + err.Error()
	}
	var names []string
	for _, s := range bytes.Split(buf[:n], []byte{0}) {
		// XFS also lists its raw ACLs (trusted.SGI_ACL_*), the same as system.posix_acl_*
		if len(s) > 0 && !bytes.HasPrefix(s, []byte("trusted.SGI_ACL_")) {
			names = append(names, string(s))
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		v := make([]byte, 64<<10)
		k, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			fmt.Fprintf(&b, "%s:error %v;", name, err)
			continue
		}
		fmt.Fprintf(&b, "%s=%x;", name, v[:k])
	}
	return b.String()
}

func openNoatime(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|unix.O_NOATIME, 0)
}

// dataMap walks SEEK_DATA/SEEK_HOLE: [offset, length] of each data range.
func dataMap(p string) [][2]int64 {
	f, err := openNoatime(p)
	if err != nil {
		return [][2]int64{{-1, -1}}
	}
	defer f.Close()
	fi, _ := f.Stat()
	var out [][2]int64
	for off := int64(0); off < fi.Size(); {
		d, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
		if err != nil {
			break
		}
		h, err := unix.Seek(int(f.Fd()), d, unix.SEEK_HOLE)
		if err != nil {
			return append(out, [2]int64{d, -1})
		}
		out = append(out, [2]int64{d, h - d})
		off = h
	}
	return out
}

// TestGuestEscapedNames patches a real ext4 image so its root directory
// holds "a/bb", a second ".." and "aaaa" twice: restore and mount show each
// under its escaped name (guest.EscapeName), and the restore warns.
func TestGuestEscapedNames(t *testing.T) {
	need(t, "mke2fs", "fusermount3")
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "src")
	os.MkdirAll(src, 0o755)
	for _, n := range []string{"aaaa", "bbbb", "cccc", "dd"} {
		if err := os.WriteFile(filepath.Join(src, n), []byte("content of "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img := filepath.Join(d.dir, "names.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 8<<20)
	sh(t, "mke2fs", "-q", "-t", "ext4", "-O", "^metadata_csum", "-E", "root_owner=0:0", "-d", src, img)
	data, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for old, repl := range map[string]string{"bbbb": "a/bb", "cccc": "aaaa", "dd": ".."} {
		i := bytes.Index(data, append([]byte{byte(len(old)), 1}, old...)) // name_len, file_type, name
		if i < 0 {
			t.Fatalf("directory entry %q not found in the image", old)
		}
		copy(data[i+2:], repl)
	}
	if err := os.WriteFile(img, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d.must("item", "add", "odd", "--disk", img)
	d.must("backup", "odd")
	out := filepath.Join(d.dir, "out")
	stdout, stderr, code := d.run("restore", "files", "odd", "--point", "latest", "--path", "/", "--to", out, "--keep-privileges")
	if code != 3 {
		t.Fatalf("restore: exit %d, want 3 (warnings)\n%s%s", code, stdout, stderr)
	}
	want := map[string]string{"aaaa": "", "aaaa~rewind1": "aaaa", "a%2Fbb~rewind1": "a/bb", "%2E%2E~rewind1": ".."}
	for name, raw := range want {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || !strings.HasPrefix(string(b), "content of ") {
			t.Errorf("restored %s: %q %v", name, b, err)
		}
		if raw != "" && !strings.Contains(stdout, fmt.Sprintf("stores this name as %q", raw)) {
			t.Errorf("no warning for %q:\n%s", raw, stdout)
		}
	}
	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	d.must("mount", mnt, "--item", "odd")
	ents, err := os.ReadDir(filepath.Join(mnt, "odd", "latest", "files", "disk"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "%2E%2E~rewind1 a%2Fbb~rewind1 aaaa aaaa~rewind1 lost+found" {
		t.Errorf("mount lists %q", got)
	}
	d.must("umount", mnt)
	d.stop() // the log is read once the daemon has exited
	if !strings.Contains(d.logs.String(), "shown escaped") {
		t.Errorf("the daemon log does not warn about the escaped names")
	}
}

// TestKeepPrivilegesNeedsAdmin: over the TLS API a restore-operator may
// restore a disk point's files, but only an admin may keep the guest's
// privileges.
func TestKeepPrivilegesNeedsAdmin(t *testing.T) {
	need(t, "mke2fs")
	// the test's temporary root holds the daemon's directory: restore-operators restore there
	d, remote := tcpDaemon(t, fmt.Sprintf("restore_roots = [%q]", filepath.Dir(t.TempDir())))
	src := filepath.Join(d.dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "f"), []byte("f"), 0o644)
	img := filepath.Join(d.dir, "small.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 8<<20)
	sh(t, "mke2fs", "-q", "-t", "ext4", "-d", src, img)
	d.must("item", "add", "small", "--disk", img)
	d.must("backup", "small")
	for i, c := range []struct {
		role string
		keep bool
		want int
	}{{"restore-operator", true, 5}, {"restore-operator", false, 0}, {"admin", true, 0}} {
		args := append(append([]string{}, remote...), "restore", "files", "small", "--point", "latest", "--path", "f",
			"--to", filepath.Join(d.dir, fmt.Sprintf("out%d", i)), "--token", d.token(c.role))
		if c.keep {
			args = append(args, "--keep-privileges")
		}
		if out, errOut, code := d.run(args...); code != c.want {
			t.Errorf("%s, --keep-privileges %v: exit %d, want %d\n%s%s", c.role, c.keep, code, c.want, out, errOut)
		}
	}
}
