package vault

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/policy"
)

var testPass = []byte("correct horse battery staple")

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *fakeClock {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &fakeClock{t: t}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// testHost opens a host in dir with clock.
func testHost(t *testing.T, dir string, clock *fakeClock) *Host {
	t.Helper()
	h, err := OpenHost(context.Background(), dir, HostOptions{Now: clock.Now})
	if err != nil {
		t.Fatalf("OpenHost: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// testVault creates a vault with a small 2+1 layout in a fresh host.
func testVault(t *testing.T) (*Host, *Vault, *fakeClock, string) {
	t.Helper()
	dir := t.TempDir()
	clock := newClock("2026-01-01T00:00:00Z")
	h := testHost(t, dir, clock)
	v, err := h.Create(context.Background(), "prod-1", testPass, CreateOptions{Layout: StorageLayout{DataShards: 2, ParityShards: 1}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return h, v, clock, dir
}

func mustItem(t *testing.T, v *Vault, name, pol string) Item {
	t.Helper()
	it, err := v.AddItem(context.Background(), ItemSpec{Name: name, Policy: pol, Source: Source{Kind: KindDisk, Spec: "/dev/vg/" + name}})
	if err != nil {
		t.Fatalf("AddItem %s: %v", name, err)
	}
	return it
}

// rootOf makes a distinct non-zero root id for test points.
func rootOf(s string) blockstore.ID {
	var id blockstore.ID
	copy(id[:], s)
	id[31] = 1
	return id
}

func mustPoint(t *testing.T, v *Vault, item string, at time.Time) Point {
	t.Helper()
	p, err := v.AddPoint(context.Background(), Point{Item: item, Time: at, Kind: Full,
		Consistency: ConsistencyCrash, Root: rootOf(item + at.String()), SourceBytes: 100, BytesStored: 10})
	if err != nil {
		t.Fatalf("AddPoint %s %s: %v", item, at, err)
	}
	return p
}

// wantErr fails unless err wraps kind and its message contains every part.
func wantErr(t *testing.T, err, kind error, parts ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v: want kind %v", err, kind)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (v *Vault) mustDefaultSpec(t *testing.T) policy.Policy {
	t.Helper()
	p, err := v.Policy(context.Background(), DefaultPolicyName)
	must(t, err)
	return p.Spec
}

// testWalkers treat the root as a point's only chunk.
func testWalkers() Walkers {
	none := func(ctx context.Context, root blockstore.ID, yield func(blockstore.ID) error) error { return nil }
	return Walkers{KindDisk: none, KindShare: none}
}
