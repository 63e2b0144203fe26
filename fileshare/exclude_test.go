package fileshare

import (
	"strings"
	"testing"
)

func TestExcludes(t *testing.T) {
	cases := []struct {
		patterns []string
		path     string
		dir      bool
		want     bool
	}{
		{[]string{"*.tmp"}, "a.tmp", false, true},
		{[]string{"*.tmp"}, "x/y/a.tmp", false, true},
		{[]string{"*.tmp"}, "a.tmpx", false, false},
		{[]string{"cache/"}, "x/cache", true, true},
		{[]string{"cache/"}, "x/cache", false, false},
		{[]string{"/build"}, "build", true, true},
		{[]string{"/build"}, "src/build", true, false},
		{[]string{"doc/*.txt"}, "doc/a.txt", false, true},
		{[]string{"doc/*.txt"}, "doc/sub/a.txt", false, false},
		{[]string{"doc/*.txt"}, "x/doc/a.txt", false, false},
		{[]string{"**/logs"}, "a/b/logs", true, true},
		{[]string{"**/logs"}, "logs", true, true},
		{[]string{"a/**/b"}, "a/b", false, true},
		{[]string{"a/**/b"}, "a/x/y/b", false, true},
		{[]string{"logs/**"}, "logs", true, false},
		{[]string{"logs/**"}, "logs/x", false, true},
		{[]string{"*.log", "!keep.log"}, "keep.log", false, false},
		{[]string{"*.log", "!keep.log"}, "other.log", false, true},
		{[]string{"!keep.log", "*.log"}, "keep.log", false, true},
		{[]string{`\!bang`}, "!bang", false, true},
		{[]string{"[ab]?"}, "bz", false, true},
		{nil, "anything", false, false},
		{[]string{"a/**/**/b"}, "a/x/b", false, true},
		{[]string{"**/a/**/a/**/a/**/b"}, strings.Repeat("a/", 2000) + "c", false, false},
		{[]string{"x/**/y/*.go"}, "x/1/y/2/y/m.go", false, true},
		{[]string{"x/**/y/*.go"}, "x/1/y/2/z/m.go", false, false},
	}
	for _, c := range cases {
		e, err := CompileExcludes(c.patterns)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Excluded(c.path, c.dir); got != c.want {
			t.Errorf("%q on %q (dir %v): %v, want %v", c.patterns, c.path, c.dir, got, c.want)
		}
	}
	for _, bad := range []string{"", "/", "a//b", "[", "!", strings.Repeat("x", 1025)} {
		if _, err := CompileExcludes([]string{bad}); err == nil {
			t.Errorf("pattern %q compiled", bad)
		}
	}
}
