// Package targettest is the conformance suite every blockstore.Target must
// pass (directory now, S3-compatible later): atomic replacing Put, exact
// ReadAt with io.ErrUnexpectedEOF and ErrNotExist, Stat, prefix List,
// idempotent Delete, and the conditional put of owner leases found through
// blockstore.As (so wrappers must keep it). RunTempCleanup checks a
// directory-backed stack keeps GC's temp cleanup.
package targettest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// Run runs every conformance check, each on a fresh target from newTarget.
func Run(t *testing.T, newTarget func(t *testing.T) blockstore.Target) {
	cases := []struct {
		name string
		fn   func(*testing.T, blockstore.Target)
	}{
		{"PutReadStat", testPutReadStat},
		{"ReplaceAndEmpty", testReplaceAndEmpty},
		{"Missing", testMissing},
		{"ShortRead", testShortRead},
		{"List", testList},
		{"Delete", testDelete},
		{"Concurrent", testConcurrent},
		{"Cancelled", testCancelled},
		{"Conditional", testConditional},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newTarget(t)) })
	}
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func mustPut(t *testing.T, tg blockstore.Target, name string, data []byte) {
	t.Helper()
	if err := tg.Put(context.Background(), name, data); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func testPutReadStat(t *testing.T, tg blockstore.Target) {
	ctx := context.Background()
	if tg.Name() == "" {
		t.Error("empty Name")
	}
	data := pattern(1<<20+123, 1)
	mustPut(t, tg, "seg/0000000000000001.0", data)
	n, err := tg.Stat(ctx, "seg/0000000000000001.0")
	if err != nil || n != int64(len(data)) {
		t.Fatalf("stat: %d %v", n, err)
	}
	for _, r := range [][2]int{{0, len(data)}, {0, 1}, {4096, 70000}, {len(data) - 10, 10}, {len(data), 0}} {
		p := make([]byte, r[1])
		if err := tg.ReadAt(ctx, "seg/0000000000000001.0", p, int64(r[0])); err != nil {
			t.Fatalf("read %v: %v", r, err)
		}
		if !bytes.Equal(p, data[r[0]:r[0]+r[1]]) {
			t.Fatalf("read %v: wrong bytes", r)
		}
	}
}

func testReplaceAndEmpty(t *testing.T, tg blockstore.Target) {
	ctx := context.Background()
	mustPut(t, tg, "keys/master", pattern(500, 2))
	mustPut(t, tg, "keys/master", pattern(100, 3))
	p := make([]byte, 100)
	if err := tg.ReadAt(ctx, "keys/master", p, 0); err != nil || !bytes.Equal(p, pattern(100, 3)) {
		t.Fatalf("replaced object: %v", err)
	}
	if n, err := tg.Stat(ctx, "keys/master"); err != nil || n != 100 {
		t.Fatalf("replaced size %d %v", n, err)
	}
	mustPut(t, tg, "empty", nil)
	if n, err := tg.Stat(ctx, "empty"); err != nil || n != 0 {
		t.Fatalf("empty object: %d %v", n, err)
	}
}

func testMissing(t *testing.T, tg blockstore.Target) {
	ctx := context.Background()
	if _, err := tg.Stat(ctx, "seg/nope"); !errors.Is(err, blockstore.ErrNotExist) {
		t.Errorf("stat missing: %v", err)
	}
	if err := tg.ReadAt(ctx, "seg/nope", make([]byte, 1), 0); !errors.Is(err, blockstore.ErrNotExist) {
		t.Errorf("read missing: %v", err)
	}
}

func testShortRead(t *testing.T, tg blockstore.Target) {
	ctx := context.Background()
	mustPut(t, tg, "short", pattern(100, 4))
	for _, off := range []int64{50, 100, 1000} {
		err := tg.ReadAt(ctx, "short", make([]byte, 60), off)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("read past end at %d: %v", off, err)
		}
	}
}

func list(t *testing.T, tg blockstore.Target, prefix string) []string {
	t.Helper()
	var names []string
	err := tg.List(context.Background(), prefix, func(name string, size int64) error {
		names = append(names, fmt.Sprintf("%s=%d", name, size))
		return nil
	})
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	sort.Strings(names)
	return names
}

func testList(t *testing.T, tg blockstore.Target) {
	for i, n := range []string{"seg/00000000000000a1.0", "seg/00000000000000a2.0", "seg/00000000000000b1.0", "keys/master", "segx"} {
		mustPut(t, tg, n, pattern(10+i, 5))
	}
	want := map[string][]string{
		"seg/":                {"seg/00000000000000a1.0=10", "seg/00000000000000a2.0=11", "seg/00000000000000b1.0=12"},
		"seg/00000000000000a": {"seg/00000000000000a1.0=10", "seg/00000000000000a2.0=11"},
		"keys/":               {"keys/master=13"},
		"nothing/":            nil,
	}
	for prefix, w := range want {
		if got := list(t, tg, prefix); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("list %q = %v, want %v", prefix, got, w)
		}
	}
	if got := list(t, tg, ""); len(got) != 5 {
		t.Errorf("list all = %v", got)
	}
}

func testDelete(t *testing.T, tg blockstore.Target) {
	ctx := context.Background()
	mustPut(t, tg, "seg/d", pattern(10, 6))
	for i := 0; i < 2; i++ {
		if err := tg.Delete(ctx, "seg/d"); err != nil {
			t.Fatalf("delete #%d: %v", i, err)
		}
	}
	if _, err := tg.Stat(ctx, "seg/d"); !errors.Is(err, blockstore.ErrNotExist) {
		t.Errorf("deleted object: %v", err)
	}
	if got := list(t, tg, "seg/"); len(got) != 0 {
		t.Errorf("list after delete: %v", got)
	}
}

func testConcurrent(t *testing.T, tg blockstore.Target) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("seg/%016x.%d", i%2, i)
			if err := tg.Put(context.Background(), name, pattern(50000, byte(i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := list(t, tg, "seg/"); len(got) != 8 {
		t.Fatalf("after concurrent puts: %v", got)
	}
}

func testCancelled(t *testing.T, tg blockstore.Target) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tg.Put(ctx, "seg/cancelled", pattern(10, 7)); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := tg.Stat(context.Background(), "seg/cancelled"); !errors.Is(err, blockstore.ErrNotExist) {
		t.Errorf("cancelled Put left an object: %v", err)
	}
}
