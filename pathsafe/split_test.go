package pathsafe

import (
	"path"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"/", "", true}, {"//a/./b/", "a|b", true}, {"/a/../b", "a|..|b", true},
		{"a", "", false}, {"", "", false}, {"/a\x00b", "", false}, {"/" + strings.Repeat("x", 256), "", false},
	} {
		got, err := Split(c.in)
		if (err == nil) != c.ok || strings.Join(got, "|") != c.want {
			t.Errorf("Split(%q) = %q, %v", c.in, got, err)
		}
	}
}

// FuzzSplit: every accepted path splits into components that contain no
// "/" and are neither empty nor ".", and that name the same path lexically.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "//a/./../b/", "rel", "/a\x00", "/..", "/a/b/../../.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		comps, err := Split(p)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") {
			t.Fatalf("Split accepted relative %q", p)
		}
		for _, c := range comps {
			if c == "" || c == "." || strings.Contains(c, "/") || strings.Contains(c, "\x00") || len(c) > maxName {
				t.Fatalf("Split(%q) gave component %q", p, c)
			}
		}
		if got := path.Clean("/" + strings.Join(comps, "/")); got != path.Clean(p) {
			t.Fatalf("Split(%q) = %q, names %s not %s", p, comps, got, path.Clean(p))
		}
	})
}
