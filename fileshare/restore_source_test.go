package fileshare

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/tests/fidelity"
	"golang.org/x/sys/unix"
)

// TestDropPrivileges restores the fidelity corpus (built by real tools)
// with DropPrivileges: no setuid/setgid bit, no capability, no device node,
// owners left as root, each counted; the rest is as recorded.
func TestDropPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: the corpus holds devices, owners and capabilities")
	}
	base := t.TempDir()
	src, dst := filepath.Join(base, "src"), filepath.Join(base, "dst")
	must(t, fidelity.Build(src))
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	rr, err := Restore(context.Background(), s, res.Root, dst, RestoreOptions{DropPrivileges: true})
	must(t, err)
	for _, p := range []string{"dev/tty5", "dev/loop7", "links/null", "links/null2"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: device restored without privileges (%v)", p, err)
		}
	}
	var st unix.Stat_t
	must(t, unix.Lstat(filepath.Join(dst, "xattr/suid"), &st))
	if st.Mode&0o7777 != 0o755 || st.Uid != 0 {
		t.Errorf("xattr/suid: mode %o uid %d, want 0755 owned by root", st.Mode&0o7777, st.Uid)
	}
	must(t, unix.Lstat(filepath.Join(dst, "xattr/sgid"), &st))
	if st.Mode&0o7777 != 0o711 {
		t.Errorf("xattr/sgid: mode %o, want 0711", st.Mode&0o7777)
	}
	if _, err := unix.Lgetxattr(filepath.Join(dst, "xattr/capfile"), "security.capability", make([]byte, 64)); !errors.Is(err, unix.ENODATA) {
		t.Errorf("capfile keeps its capability: %v", err)
	}
	// 4 devices, 2 bits, 1 capability
	if rr.Dropped != 7 || len(rr.Warnings) < 7 {
		t.Errorf("dropped %d, warnings %q: want 7 each", rr.Dropped, rr.Warnings)
	}
	b, err := os.ReadFile(filepath.Join(dst, "acl/file"))
	if err != nil || string(b) != "secret" {
		t.Errorf("acl/file: %q %v", b, err)
	}
}

// memSource is a RestoreSource of a few entries held in memory (what a
// guest file system reader provides), to test RestoreFrom apart from the
// block store.
type memSource struct {
	dirs  map[string][]*Entry
	files map[string][]byte
}

func (m memSource) Root(context.Context) (*Entry, error) {
	return &Entry{Type: TypeDir, Mode: 0o750, Mtime: time.Unix(-100, 7), Atime: time.Unix(5, 0), Ref: ""}, nil
}

func (m memSource) ReadDir(_ context.Context, dir *Entry, fn func(*Entry) error) error {
	for _, e := range m.dirs[dir.Ref.(string)] {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (m memSource) Open(_ context.Context, e *Entry) (Content, error) {
	data := m.files[e.Ref.(string)]
	return &ReaderContent{R: bytes.NewReader(data), Ranges: []DataRange{{Off: 0, Len: 3}, {Off: int64(len(data)) - 2, Len: 2}}}, nil
}

// TestRestoreFromAnySource: entries of every type with a link group across
// types, times before 1970 and after 2262, and a data map with a hole come
// back as given; a bad name and a type clash in a link group are warnings.
func TestRestoreFromAnySource(t *testing.T) {
	late := time.Date(2400, 2, 29, 1, 2, 3, 456, time.UTC)
	data := append([]byte("abc"), make([]byte, 1<<20)...)
	data = append(data, 'y', 'z')
	m := memSource{
		dirs: map[string][]*Entry{
			"": {
				{Name: "f", Type: TypeFile, Mode: 0o640, Size: int64(len(data)), Mtime: late, Atime: late, Ref: "f",
					Xattrs: []Xattr{{"user.k", []byte("v")}}},
				{Name: "p1", Type: TypeFifo, Mode: 0o604, Mtime: time.Unix(-5, 9), LinkKey: "fifo", Ref: "p1"},
				{Name: "p2", Type: TypeFifo, Mode: 0o604, Mtime: time.Unix(-5, 9), LinkKey: "fifo", Ref: "p2"},
				{Name: "s1", Type: TypeSocket, Mode: 0o777, LinkKey: "sock", Ref: "s1"},
				{Name: "s2", Type: TypeSocket, Mode: 0o777, LinkKey: "sock", Ref: "s2"},
				{Name: "l1", Type: TypeSymlink, Target: "f", LinkKey: "sym", Ref: "l1"},
				{Name: "l2", Type: TypeSymlink, Target: "f", LinkKey: "sym", Ref: "l2"},
				{Name: "x", Type: TypeFifo, Mode: 0o600, LinkKey: "sock", Ref: "x"},
				{Name: "../evil", Type: TypeFile, Ref: "evil"},
			},
		},
		files: map[string][]byte{"f": data},
	}
	dst := filepath.Join(t.TempDir(), "dst")
	res, err := RestoreFrom(context.Background(), m, dst, RestoreOptions{Verify: true})
	must(t, err)
	if len(res.Mismatches) > 0 {
		t.Fatalf("verify: %q", res.Mismatches)
	}
	got, err := os.ReadFile(filepath.Join(dst, "f"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("f: %d bytes, %v", len(got), err)
	}
	var st unix.Stat_t
	must(t, unix.Lstat(filepath.Join(dst, "f"), &st))
	if st.Mtim.Sec != late.Unix() || st.Mtim.Nsec != 456 || st.Blocks*512 >= 1<<20 {
		t.Errorf("f: mtime %v, %d blocks; want %v and a hole", st.Mtim, st.Blocks, late)
	}
	must(t, unix.Lstat(dst, &st))
	if st.Mtim.Sec != -100 || st.Mtim.Nsec != 7 || st.Mode&0o7777 != 0o750 {
		t.Errorf("root: mtime %v mode %o", st.Mtim, st.Mode&0o7777)
	}
	for _, pair := range [][2]string{{"p1", "p2"}, {"s1", "s2"}, {"l1", "l2"}} {
		var a, b unix.Stat_t
		must(t, unix.Lstat(filepath.Join(dst, pair[0]), &a))
		must(t, unix.Lstat(filepath.Join(dst, pair[1]), &b))
		if a.Ino != b.Ino || a.Nlink != 2 {
			t.Errorf("%s and %s: inodes %d %d nlink %d, want one inode linked twice", pair[0], pair[1], a.Ino, b.Ino, a.Nlink)
		}
	}
	must(t, unix.Lstat(filepath.Join(dst, "p1"), &st))
	if st.Mtim.Sec != -5 || st.Mtim.Nsec != 9 {
		t.Errorf("p1: mtime %v, want -5.000000009", st.Mtim)
	}
	w := strings.Join(res.Warnings, "\n")
	if !strings.Contains(w, "evil") || !strings.Contains(w, "/x\": recorded as a hard link") {
		t.Errorf("warnings %q: want the bad name and the type clash", res.Warnings)
	}
}

// TestDropPrivilegesXattrs: without privileges only user.* xattrs and ACLs
// are written. trusted.* (overlayfs whiteouts and redirects live there) and
// security.* (capabilities, IMA/EVM, LSM labels) need CAP_SYS_ADMIN or an
// LSM's consent, and a hostile guest or share would otherwise plant them
// through the root daemon; an SELinux label is left to the target's policy.
func TestDropPrivilegesXattrs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: trusted.* xattrs")
	}
	m := memSource{dirs: map[string][]*Entry{"": {
		{Name: "f", Type: TypeFile, Mode: 0o644, Ref: "f", Xattrs: []Xattr{
			{"security.evil", []byte("1")}, {"security.selinux", []byte("system_u:object_r:shadow_t:s0")},
			{"trusted.overlay.redirect", []byte("/etc")}, {"user.keep", []byte("yes")}}},
	}}}
	dst := filepath.Join(t.TempDir(), "dst")
	res, err := RestoreFrom(context.Background(), m, dst, RestoreOptions{DropPrivileges: true})
	must(t, err)
	names, err := (metaTarget{fd: -1, path: filepath.Join(dst, "f")}).xattrNames()
	must(t, err)
	if got := strings.Join(names, ","); strings.Contains(got, "trusted.") || strings.Contains(got, "security.") || !strings.Contains(got, "user.keep") {
		t.Errorf("xattrs %s, want user.keep and no trusted.* or security.*", got)
	}
	if res.Dropped != 2 || !strings.Contains(strings.Join(res.Warnings, "\n"), "trusted.overlay.redirect") {
		t.Errorf("dropped %d, warnings %q: want 2, naming each", res.Dropped, res.Warnings)
	}
}
