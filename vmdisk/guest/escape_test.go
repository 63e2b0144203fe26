package guest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEscapeNames(t *testing.T) {
	ents := []Entry{{Name: "x"}, {Name: "a/b"}, {Name: ".."}, {Name: "."}, {Name: "x"}, {Name: ""},
		{Name: "x~rewind1"}, {Name: "50%/\x00"}, {Name: strings.Repeat("/", 255)}}
	got := escapeNames(ents)
	want := map[string]string{
		"x": "", "a%2Fb~rewind1": "a/b", "%2E%2E~rewind1": "..", "%2E~rewind1": ".", "x~rewind2": "x",
		"~rewind1": "", "x~rewind1": "", "50%25%2F%00~rewind1": "50%/\x00",
		strings.Repeat("%2F", 66) + "~rewind1": strings.Repeat("/", 255),
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, e := range got {
		raw, ok := want[e.Name]
		if !ok || raw != e.RawName {
			t.Errorf("entry %q (raw %q) not expected (want raw %q)", e.Name, e.RawName, raw)
		}
		if i > 0 && got[i-1].Name >= e.Name {
			t.Errorf("not sorted at %q", e.Name)
		}
		if !validElem(e.Name) || len(e.Name) > 255 {
			t.Errorf("escaped name %q is not a valid file name", e.Name)
		}
	}
}

// TestEscapedNamesInImage patches a real ext4 image so one directory holds
// "a/bb", ".." (a second, non-dot entry) and "aaaa" twice: every entry is
// listed under an escaped name and can be opened by it.
func TestEscapedNamesInImage(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	must(t, os.Mkdir(src, 0o755))
	for _, n := range []string{"aaaa", "bbbb", "cccc", "dd"} {
		must(t, os.WriteFile(filepath.Join(src, n), []byte("content of "+n), 0o644))
	}
	img := filepath.Join(tmp, "ext.img")
	mkExt(t, img, src, "ext4", 4<<20, "-O", "^metadata_csum")
	data, err := os.ReadFile(img)
	must(t, err)
	for old, repl := range map[string]string{"bbbb": "a/bb", "cccc": "aaaa", "dd": ".."} {
		// a directory entry name follows name_len and file_type bytes
		needle := append([]byte{byte(len(old)), 1}, old...)
		i := bytes.Index(data, needle)
		if i < 0 {
			t.Fatalf("entry %q not found in the image", old)
		}
		copy(data[i+2:], repl)
	}
	must(t, os.WriteFile(img, data, 0o644))
	r, size := openImage(t, img)
	fsys, err := OpenFS(testCtx(t), r, size, TypeExt4)
	must(t, err)
	ents, err := fsys.ReadDir(".")
	must(t, err)
	got := map[string]string{}
	for _, e := range dropName(ents, "lost+found") {
		got[e.Name] = e.RawName
		f, err := fsys.Open(e.Name)
		if err != nil {
			t.Errorf("open %q: %v", e.Name, err)
			continue
		}
		b := make([]byte, f.Size())
		must(t, readFull(f, b, 0))
		if !strings.HasPrefix(string(b), "content of ") {
			t.Errorf("%q reads %q", e.Name, b)
		}
	}
	want := map[string]string{"aaaa": "", "aaaa~rewind1": "aaaa", "a%2Fbb~rewind1": "a/bb", "%2E%2E~rewind1": ".."}
	if len(got) != len(want) {
		t.Fatalf("entries %q, want %q", got, want)
	}
	for n, raw := range want {
		if r, ok := got[n]; !ok || r != raw {
			t.Errorf("entry %q: raw %q present %v, want raw %q", n, r, ok, raw)
		}
	}
}
