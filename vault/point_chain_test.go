package vault

import (
	"encoding/json"
	"testing"
	"time"
)

// TestPointChainJSON: a point written before chains were recorded decodes
// with no chain, and a chain survives a round trip.
func TestPointChainJSON(t *testing.T) {
	old := `{"v":1,"id":"2026-11-01T00:00:00Z","time":"2026-11-01T00:00:00Z","item":"vm","kind":"full",` +
		`"consistency":"crash","source_bytes":1,"bytes_read":1,"bytes_stored":1,"root":"","warnings":0}`
	var p Point
	if err := json.Unmarshal([]byte(old), &p); err != nil || p.Chain != nil || p.Item != "vm" {
		t.Fatalf("old record: %+v, %v", p, err)
	}
	mt := time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)
	p.Chain = []ChainFile{{Role: "image", Path: "/srv/vm.qcow2", Format: "qcow2", Size: 196616, MTime: mt},
		{Role: "backing", Depth: 1, Path: "/srv/base.raw", Format: "raw", Size: 8 << 20, MTime: mt}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Point
	if err := json.Unmarshal(b, &q); err != nil || len(q.Chain) != 2 || q.Chain[1] != p.Chain[1] || !q.Chain[0].MTime.Equal(mt) {
		t.Fatalf("round trip: %+v, %v\n%s", q.Chain, err, b)
	}
}
