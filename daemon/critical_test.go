package daemon

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/vault"
)

// TestCriticalOpsDocumented: API.md's "Critical operations" table and
// criticalOps name the same operations.
func TestCriticalOpsDocumented(t *testing.T) {
	b, err := os.ReadFile("../API.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "### Critical operations")
	if !ok {
		t.Fatal(`API.md has no "### Critical operations" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n### ")
	var doc []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\|").FindAllStringSubmatch(sec, -1) {
		doc = append(doc, m[1])
	}
	var code []string
	for op := range criticalOps {
		code = append(code, string(op))
	}
	slices.Sort(doc)
	slices.Sort(code)
	if !slices.Equal(doc, code) {
		t.Fatalf("API.md lists critical operations %v, daemon/critical.go %v", doc, code)
	}
}

func TestMayApprove(t *testing.T) {
	req := vault.Approval{ID: "r1", Requester: "token:a", RequesterChain: []string{"user:root"}}
	cases := []struct {
		name string
		p    Principal
		ok   bool
	}{
		{"the requester", Principal{Name: "token:a"}, false},
		{"a token the requester made", Principal{Name: "token:s", Lineage: []string{"token:a", "user:root"}}, false},
		{"made through a token the requester made", Principal{Name: "token:s2", Lineage: []string{"token:s", "token:a", "user:root"}}, false},
		{"the requester's creator", Principal{Name: "user:root"}, false},
		{"a sibling made by the same creator", Principal{Name: "token:s", Lineage: []string{"user:root"}}, true},
		{"an independent security admin", Principal{Name: "user:alice"}, true},
	}
	for _, c := range cases {
		err := mayApprove(&c.p, req)
		if (err == nil) != c.ok {
			t.Errorf("%s: mayApprove = %v, want ok %v", c.name, err, c.ok)
		}
		if err != nil && ExitCode(err) != 5 {
			t.Errorf("%s: exit code %d, want 5", c.name, ExitCode(err))
		}
	}
}

func TestCriticalSettings(t *testing.T) {
	on := vault.Settings{SoftDeleteDays: 30, Immutability: vault.ImmutabilityOn, MultiUserApproval: true}
	f, tr := false, true
	off, locked := "off", "locked"
	d0, d14, d60 := 0, 14, 60
	cases := []struct {
		req  VaultSettingsRequest
		want []critical
	}{
		{VaultSettingsRequest{MultiUserApproval: &f}, []critical{critMUAOff}},
		{VaultSettingsRequest{MultiUserApproval: &tr}, nil},
		{VaultSettingsRequest{Immutability: &off}, []critical{critImmutabilityOff}},
		{VaultSettingsRequest{Immutability: &locked}, nil},
		{VaultSettingsRequest{SoftDeleteDays: &d14}, []critical{critSoftDeleteShorten}},
		{VaultSettingsRequest{SoftDeleteDays: &d0}, []critical{critSoftDeleteShorten}},
		{VaultSettingsRequest{SoftDeleteDays: &d60}, nil},
		{VaultSettingsRequest{MultiUserApproval: &f, SoftDeleteDays: &d14}, []critical{critMUAOff, critSoftDeleteShorten}},
	}
	for _, c := range cases {
		if got := criticalSettings(on, c.req); !slices.Equal(got, c.want) {
			t.Errorf("%+v: critical %v, want %v", c.req, got, c.want)
		}
	}
}

func TestRestoreCritical(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.img")
	os.WriteFile(disk, []byte("x"), 0o600)
	link := filepath.Join(dir, "alias.img")
	os.Symlink(disk, link)
	share := filepath.Join(dir, "share")
	os.MkdirAll(filepath.Join(share, "sub"), 0o755)
	diskItem := vault.Item{Source: vault.Source{Kind: vault.KindDisk, Spec: disk}}
	shareItem := vault.Item{Source: vault.Source{Kind: vault.KindShare, Path: share}}
	cases := []struct {
		name string
		it   vault.Item
		req  RestoreRequest
		crit bool
	}{
		{"disk forced onto its source", diskItem, RestoreRequest{Kind: "disk", To: disk, Force: true}, true},
		{"disk forced onto a link to its source", diskItem, RestoreRequest{Kind: "disk", To: link, Force: true}, true},
		{"disk to a new file", diskItem, RestoreRequest{Kind: "disk", To: filepath.Join(dir, "new.img"), Force: true}, false},
		{"share original overwrite", shareItem, RestoreRequest{Kind: "share", Original: true, Conflict: "overwrite"}, true},
		{"share into its own subtree, overwrite", shareItem, RestoreRequest{Kind: "share", To: filepath.Join(share, "sub"), Conflict: "overwrite"}, true},
		{"share original rename", shareItem, RestoreRequest{Kind: "share", Original: true, Conflict: "rename"}, false},
		{"share elsewhere, overwrite", shareItem, RestoreRequest{Kind: "share", To: filepath.Join(dir, "elsewhere"), Conflict: "overwrite"}, false},
		{"share next to it, overwrite", shareItem, RestoreRequest{Kind: "share", To: share + "2", Conflict: "overwrite"}, false},
	}
	for _, c := range cases {
		if got := len(restoreCritical(c.it, c.req)) > 0; got != c.crit {
			t.Errorf("%s: critical %v, want %v", c.name, got, c.crit)
		}
	}
}

func TestFailLimiter(t *testing.T) {
	var l failLimiter
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i < failFree; i++ {
		l.fail("a", now)
		if w := l.wait("a", now); w != 0 {
			t.Fatalf("after %d failures: wait %v, want none", i, w)
		}
	}
	l.fail("a", now)
	if w := l.wait("a", now); w != failBase {
		t.Fatalf("after %d failures: wait %v, want %v", failFree, w, failBase)
	}
	if w := l.wait("b", now); w != 0 {
		t.Fatalf("another principal waits %v", w)
	}
	l.fail("a", now)
	if w := l.wait("a", now); w != 2*failBase {
		t.Fatalf("one more failure: wait %v, want %v", w, 2*failBase)
	}
	for i := 0; i < 20; i++ {
		l.fail("a", now)
	}
	if w := l.wait("a", now); w != failMax {
		t.Fatalf("many failures: wait %v, want the cap %v", w, failMax)
	}
	if w := l.wait("a", now.Add(failMax)); w != 0 {
		t.Fatalf("after the wait: %v", w)
	}
	l.reset("a")
	l.fail("a", now)
	if w := l.wait("a", now); w != 0 {
		t.Fatalf("after a reset one failure waits %v", w)
	}
}
