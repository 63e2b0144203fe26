package fsmount

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mountLine returns dir's line of /proc/self/mounts.
func mountLine(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[1] == dir {
			return l
		}
	}
	t.Fatalf("%s is not mounted", dir)
	return ""
}

func TestMountOptions(t *testing.T) {
	f := newFixture()
	f.add("x", t0, smallTree("x"))
	for _, other := range []bool{false, true} {
		_, dir := mountT(t, f.cat, f.open, Options{AllowOther: other})
		l := mountLine(t, dir)
		opts := strings.Split(strings.Fields(l)[3], ",")
		has := func(o string) bool {
			for _, x := range opts {
				if x == o {
					return true
				}
			}
			return false
		}
		if !strings.HasPrefix(l, "rewind ") || !strings.Contains(l, " fuse.rewind ") {
			t.Errorf("fs name: %s", l)
		}
		for _, o := range []string{"ro", "nosuid", "nodev", "default_permissions", "max_read=1048576"} {
			if !has(o) {
				t.Errorf("missing %s: %s", o, l)
			}
		}
		if has("allow_other") != other {
			t.Errorf("allow_other with AllowOther=%v: %s", other, l)
		}
		var st unix.Stat_t
		unix.Stat(dir, &st)
		ra, err := os.ReadFile(fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev)))
		if err != nil || strings.TrimSpace(string(ra)) != "1024" {
			t.Errorf("bdi read_ahead_kb %q %v, want 1024", ra, err)
		}
	}
}

func TestInodeNumbers(t *testing.T) {
	tab := newInoTable()
	if a, b := tab.space("p1"), tab.space("p2"); a == b || a == 0 || tab.space("p1") != a {
		t.Fatalf("spaces %d %d", a, b)
	}
	if tab.syntheticID("") != rootIno || !stableID(tab, "i\x00web") {
		t.Fatal("synthetic ids not stable")
	}
	cases := []struct {
		name string
		a, b uint64
		same bool
	}{
		{"same id, same space (hardlink)", ino(1, 7, 100, "a"), ino(1, 7, 200, "b"), true},
		{"same id, other point", ino(1, 7, 0, ""), ino(2, 7, 0, ""), false},
		{"packed vs space 0", ino(0, 5, 0, ""), ino(1, 5, 0, ""), false},
		{"big id hashed, stable", ino(1, 1<<50, 1, "x"), ino(1, 1<<50, 2, "y"), true},
		{"big id, other point", ino(1, 1<<50, 0, ""), ino(2, 1<<50, 0, ""), false},
		{"no id: by parent and name", ino(1, 0, 9, "a"), ino(1, 0, 9, "b"), false},
		{"no id: same parent and name", ino(1, 0, 9, "a"), ino(1, 0, 9, "a"), true},
	}
	for _, c := range cases {
		if (c.a == c.b) != c.same {
			t.Errorf("%s: %#x vs %#x", c.name, c.a, c.b)
		}
	}
	if ino(1, 1<<50, 0, "")&hashedBit == 0 || ino(3, 5, 0, "") != 3<<spaceShift|5 {
		t.Error("layout of inode numbers")
	}
}

// stableID reports whether two calls give key the same synthetic id.
func stableID(tab *inoTable, key string) bool {
	first := tab.syntheticID(key)
	return tab.syntheticID(key) == first
}
