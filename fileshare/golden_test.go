package fileshare

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenObjects pins the byte layout of every object kind: a change that
// alters it must come with a new format version (FORMAT.md).
// Old points must stay readable, so the checked-in bytes must keep decoding.
func TestGoldenObjects(t *testing.T) {
	path := filepath.Join("testdata", "objects.golden")
	var b strings.Builder
	for _, o := range seedObjects() {
		b.WriteString(hex.EncodeToString(o) + "\n")
	}
	if *update {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(want, []byte(b.String())) {
		t.Fatalf("object encoding changed (run with -update only together with a format version bump)")
	}
	for i, line := range strings.Fields(string(want)) {
		raw, err := hex.DecodeString(line)
		must(t, err)
		_, e1 := decodeDir(raw)
		_, e2 := decodeRoot(raw)
		_, e3 := decodeExtentList(raw, 1<<50)
		if e1 != nil && e2 != nil && e3 != nil {
			t.Errorf("golden object %d no longer decodes: %v / %v / %v", i, e1, e2, e3)
		}
	}
}
