package vault

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/policy"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// goldenRecords is one of each catalog record, with fixed values.
func goldenRecords() map[string]any {
	at := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	bw := &Bandwidth{WorkRate: MinRate, OffRate: 0, WorkDays: []time.Weekday{time.Monday}, WorkStart: "08:00", WorkEnd: "18:00", Zone: "Europe/Berlin"}
	return map[string]any{
		keyFormat: formatRecord{V: 1},
		keyMeta: vaultFile{Format: vaultFileFormat, V: 1, Name: "prod-1", Created: at, Store: "store",
			Targets: []string{"shards/0", "/srv/d2"}, Layout: blockstore.Layout{DataShards: 1, ParityShards: 1}},
		keySettings:                            Settings{V: 1, SoftDeleteDays: 14, Immutability: ImmutabilityLocked, MultiUserApproval: true, Bandwidth: *bw, Updated: at},
		policyKey("p"):                         Policy{V: 1, Name: "p", Spec: policy.Default(), Created: at, Updated: at},
		itemKey("db"):                          Item{V: 1, Name: "db", Source: Source{Kind: KindDisk, Spec: "nbd://host/db", Bitmap: "b0"}, Policy: "p", PreFreeze: "fsfreeze", Bandwidth: bw, State: StateDeleted, Created: at, Updated: at, DeletedAt: at, PurgeAt: at.AddDate(0, 0, 14)},
		pointKey("db", "2026-03-29T01:30:00Z"): Point{V: 1, ID: "2026-03-29T01:30:00Z", Time: at, Item: "db", Kind: Incremental, Consistency: ConsistencyFileSystem, ConsistencyReason: "pre-freeze hook failed", SourceBytes: 1 << 30, BytesRead: 1 << 24, BytesStored: 1 << 20, Root: rootOf("golden"), SourceState: "gen-3", Tiers: []policy.Tier{policy.TierDaily}, Expiry: at.AddDate(0, 0, 30), Warnings: 1, Job: "j00000000001"},
		jobKey("j0000000001"):                  Job{V: 1, ID: "j0000000001", Type: JobBackup, Status: JobCompletedWithWarnings, Vault: "prod-1", Item: "db", Point: "2026-03-29T01:30:00Z", Progress: Progress{Done: 10, Total: 10, Rate: 5}, Consistency: ConsistencyFileSystem, Created: at, Started: at, Ended: at, Warnings: []string{"slow"}, RequestedBy: "alice", ApprovedBy: []string{"bob"}},
		auditKey("a0000000001"):                AuditRecord{V: 1, ID: "a0000000001", Time: at, Principal: "mallory", Action: "set immutability off", Outcome: OutcomeRefused, Detail: "irreversible"},
		approveKey("r0000000001"):              Approval{V: 1, ID: "r0000000001", Operation: "disable soft delete", Requester: "alice", Created: at, ApprovedBy: "bob", Approved: at},
	}
}

// TestRecordEncodingsGolden pins the JSON of every catalog record
// (FORMAT.md); run with -update after a deliberate change.
func TestRecordEncodingsGolden(t *testing.T) {
	got, err := json.MarshalIndent(goldenRecords(), "", "  ")
	must(t, err)
	path := filepath.Join("testdata", "records.golden.json")
	if *update {
		must(t, os.WriteFile(path, append(got, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	must(t, err)
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Fatalf("record encodings changed (run with -update if deliberate):\n%s", got)
	}
	// Every golden record decodes back to the same value.
	var raw map[string]json.RawMessage
	must(t, json.Unmarshal(want, &raw))
	var p Point
	must(t, json.Unmarshal(raw[pointKey("db", "2026-03-29T01:30:00Z")], &p))
	if p.Root != rootOf("golden") || p.Tiers[0] != policy.TierDaily {
		t.Fatalf("decoded point = %+v", p)
	}
}
