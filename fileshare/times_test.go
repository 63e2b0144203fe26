package fileshare

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestTimesOutsideTheNanosecondRange backs up files dated 2300 and 1969
// (format v2 keeps them; v1 turned 2300 into 1901) and restores them twice:
// onto a file system that holds them (exact to the nanosecond), and onto
// an ext4 with 128-byte inodes (up to 2038 only), where each such entry is a
// warning naming it.
func TestTimesOutsideTheNanosecondRange(t *testing.T) {
	needTool(t, "mkfs.ext4", "e2fsprogs")
	ctx := context.Background()
	base := t.TempDir()
	src := filepath.Join(base, "src")
	late := time.Date(2300, 1, 1, 0, 0, 0, 123456789, time.UTC)
	early := time.Date(1969, 12, 31, 23, 59, 59, 987654321, time.UTC)
	writeFile(t, filepath.Join(src, "late"), []byte("l"), 0o644)
	writeFile(t, filepath.Join(src, "early"), []byte("e"), 0o644)
	setTimes(t, filepath.Join(src, "late"), late) // os.Chtimes goes through int64 ns
	setTimes(t, filepath.Join(src, "early"), early)
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})

	dst := filepath.Join(base, "dst")
	rr, err := Restore(ctx, s, res.Root, dst, RestoreOptions{})
	must(t, err)
	for name, want := range map[string]time.Time{"late": late, "early": early} {
		var st unix.Stat_t
		must(t, unix.Lstat(filepath.Join(dst, name), &st))
		if got := time.Unix(st.Mtim.Unix()); !got.Equal(want) {
			t.Errorf("%s: mtime %v, want %v", name, got.UTC(), want)
		}
	}
	if len(rr.Warnings) > 0 {
		t.Errorf("warnings on a file system that holds the times: %q", rr.Warnings)
	}

	img, mnt := filepath.Join(base, "small.img"), filepath.Join(base, "small")
	must(t, os.WriteFile(img, nil, 0o600))
	must(t, os.Truncate(img, 8<<20))
	run(t, "mkfs.ext4", "-q", "-I", "128", img)
	must(t, os.Mkdir(mnt, 0o755))
	run(t, "mount", "-o", "loop", img, mnt)
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	rr, err = Restore(ctx, s, res.Root, filepath.Join(mnt, "r"), RestoreOptions{})
	must(t, err)
	if !hasWarning(rr.Warnings, "/late", "cannot hold mtime 2300-01-01T00:00:00.123456789Z") {
		t.Errorf("warnings %q: want one naming /late and its mtime", rr.Warnings)
	}
	// 128-byte inodes keep whole seconds: every time with nanoseconds warns
	if !hasWarning(rr.Warnings, "/early", "it keeps 1969-12-31T23:59:59Z") {
		t.Errorf("warnings %q: want one naming /early's lost nanoseconds", rr.Warnings)
	}
}

func setTimes(t *testing.T, p string, at time.Time) {
	t.Helper()
	ts := unix.Timespec{Sec: at.Unix(), Nsec: int64(at.Nanosecond())}
	must(t, unix.UtimesNano(p, []unix.Timespec{ts, ts}))
}

// TestTimesBeyondTheFormat: tmpfs holds any 64-bit second, and anyone who
// may write a file in the share can set one. Such a time is recorded at the
// nearest end of the format's range with a warning; the directory holding
// it stays readable (it used to fail to decode, taking every sibling with it).
func TestTimesBeyondTheFormat(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	must(t, unix.Mount("none", src, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { unix.Unmount(src, unix.MNT_DETACH) })
	writeFile(t, filepath.Join(src, "sibling"), []byte("s"), 0o644)
	for name, sec := range map[string]int64{"huge": 1<<63 - 1, "tiny": -1 << 63, "year0": minTimeSec - 1} {
		writeFile(t, filepath.Join(src, name), []byte(name), 0o644)
		ts := []unix.Timespec{{Sec: sec}, {Sec: sec}}
		must(t, unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(src, name), ts, 0))
	}
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "huge") || !strings.Contains(w, "tiny") || !strings.Contains(w, "year0") {
		t.Errorf("warnings %q: want one for each time beyond the format", res.Warnings)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	rr, err := Restore(ctx, s, res.Root, dst, RestoreOptions{})
	must(t, err)
	for _, name := range []string{"sibling", "huge", "tiny", "year0"} {
		if _, err := os.Lstat(filepath.Join(dst, name)); err != nil {
			t.Errorf("%s not restored: %v (warnings %q)", name, err, rr.Warnings)
		}
	}
}

// TestLongOwnerNames: an owner or group name longer than the format keeps
// (NSS can return one) is recorded as unknown; it used to be written as is
// and its whole directory then failed to decode.
func TestLongOwnerNames(t *testing.T) {
	long := strings.Repeat("u", maxUserLen+1)
	n := &Node{Name: "f", Type: TypeFile, Mode: 0o644, User: long, Group: long, Mtime: time.Unix(1, 0)}
	o, err := decodeDir(encodeLeaf([]*Node{n}))
	if err != nil {
		t.Fatalf("a directory with a %d-byte owner name: %v", len(long), err)
	}
	if len(o.entries) != 1 || o.entries[0].User != "" || o.entries[0].Group != "" {
		t.Errorf("entries %+v: want f with unknown user and group names", o.entries)
	}
}
