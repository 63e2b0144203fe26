package fileshare

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenObjects pins the byte layout of every object kind as written
// now (format v2): a change that alters it must come with a new format
// version (FORMAT.md) and a new fixture; the fixtures of older versions stay
// and must keep decoding (TestGoldenV1Decodes).
func TestGoldenObjects(t *testing.T) {
	path := filepath.Join("testdata", "objects-v2.golden")
	var b strings.Builder
	for _, o := range seedObjects() {
		b.WriteString(hex.EncodeToString(o) + "\n")
	}
	if *update {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want := goldenObjects(t, "objects-v2.golden")
	if !bytes.Equal(bytes.Join(want, nil), bytes.Join(seedObjects(), nil)) {
		t.Fatalf("object encoding changed (run with -update only together with a format version bump)")
	}
	o, err := decodeDir(want[0])
	must(t, err)
	byName := map[string]*Node{}
	for _, n := range o.entries {
		byName[n.Name] = n
	}
	p := byName["p"]
	if p == nil || !p.Mtime.Equal(time.Date(2300, 1, 1, 0, 0, 0, 123456789, time.UTC)) ||
		!p.Atime.Equal(time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)) || !p.Ctime.Equal(time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("v2 times decode as %+v", p)
	}
	if q := byName["q"]; q == nil || q.Type != TypeSocket {
		t.Fatalf("v2 socket decodes as %+v", q)
	}
}

// TestGoldenV1Decodes: objects written by format v1 (times as int64
// nanoseconds) still decode, with their times.
func TestGoldenV1Decodes(t *testing.T) {
	objs := goldenObjects(t, "objects-v1.golden")
	for i, raw := range objs {
		_, e1 := decodeDir(raw)
		_, e2 := decodeRoot(raw)
		_, e3 := decodeExtentList(raw, 1<<50)
		if e1 != nil && e2 != nil && e3 != nil {
			t.Errorf("golden v1 object %d no longer decodes: %v / %v / %v", i, e1, e2, e3)
		}
	}
	o, err := decodeDir(objs[0])
	must(t, err)
	for _, n := range o.entries {
		if n.Name == "f\xff\n" && !n.Mtime.Equal(time.Unix(1, 2)) {
			t.Fatalf("v1 mtime decodes as %v, want 1970-01-01T00:00:01.000000002Z", n.Mtime)
		}
	}
	// a socket needs v2
	if err := checkEntry(&Node{Name: "q", Type: TypeSocket}, false, formatV1); err == nil {
		t.Fatal("a v1 socket entry passes the checks")
	}
}

func goldenObjects(t *testing.T, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	var out [][]byte
	for _, line := range strings.Fields(string(data)) {
		raw, err := hex.DecodeString(line)
		must(t, err)
		out = append(out, raw)
	}
	return out
}
