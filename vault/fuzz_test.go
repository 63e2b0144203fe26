package vault

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVaultFile feeds arbitrary vault.json contents to the reader: it must
// return an error or a descriptor of the known format, never panic.
func FuzzVaultFile(f *testing.F) {
	f.Add([]byte(`{"format":"rewind-vault","v":1,"name":"ab","store":"store","targets":["shards/0"],"layout":{"DataShards":1}}`))
	f.Add([]byte(`{"format":"rewind-vault","v":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, vaultFileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		vf, err := readVaultFile(dir)
		if err == nil && (vf.Format != vaultFileFormat || vf.V != vaultFileV) {
			t.Fatalf("accepted %+v", vf)
		}
	})
}

// FuzzPointJSON: a point record decodes or fails, and what decodes
// re-encodes to an equal record.
func FuzzPointJSON(f *testing.F) {
	raw, _ := json.Marshal(goldenRecords()[pointKey("db", "2026-03-29T01:30:00Z")])
	f.Add(raw)
	f.Add([]byte(`{"root":"zz"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Point
		if json.Unmarshal(b, &p) != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			return // e.g. a time outside JSON's range
		}
		var q Point
		if err := json.Unmarshal(again, &q); err != nil || q.Root != p.Root || q.ID != p.ID {
			t.Fatalf("re-encode of %s: %v (%+v vs %+v)", b, err, p, q)
		}
	})
}
