package targettest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// testConditional checks the compare-and-swap owner leases rely on. Every
// target kind has it; a wrapper without Unwrap would hide it and fail here.
func testConditional(t *testing.T, tg blockstore.Target) {
	ctx := context.Background()
	c, ok := blockstore.As[blockstore.Conditional](tg)
	if !ok {
		t.Fatalf("%s (%T): no Conditional capability in its wrapper chain: give the wrapper Unwrap()", tg.Name(), tg)
	}
	if _, _, err := c.GetVersion(ctx, "lease/owner", 1<<10); !errors.Is(err, blockstore.ErrNotExist) {
		t.Fatalf("GetVersion of a missing object: %v, want ErrNotExist", err)
	}
	mustPutIf(t, c, "lease/owner", []byte("first"), "")
	if err := c.PutIf(ctx, "lease/owner", []byte("second"), ""); !errors.Is(err, blockstore.ErrPrecondition) {
		t.Fatalf("create over an existing object: %v, want ErrPrecondition", err)
	}
	data, v1 := mustGetVersion(t, c, "lease/owner", "first")
	mustPutIf(t, c, "lease/owner", append(data, '!'), v1)
	if err := c.PutIf(ctx, "lease/owner", []byte("stale"), v1); !errors.Is(err, blockstore.ErrPrecondition) {
		t.Fatalf("replace with a stale version: %v, want ErrPrecondition", err)
	}
	_, v2 := mustGetVersion(t, c, "lease/owner", "first!")
	if err := c.PutIf(ctx, "lease/none", []byte("x"), v2); !errors.Is(err, blockstore.ErrPrecondition) {
		t.Fatalf("replace of a missing object: %v, want ErrPrecondition", err)
	}
	if n := racePutIf(c, v2); n != 1 {
		t.Fatalf("%d of 6 concurrent replaces of one version won, want exactly 1", n)
	}
}

// racePutIf replaces lease/owner from six goroutines at once, all expecting
// version v, and counts the winners.
func racePutIf(c blockstore.Conditional, v string) int {
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.PutIf(context.Background(), "lease/owner", []byte{byte('a' + i)}, v) == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(wins.Load())
}

func mustPutIf(t *testing.T, c blockstore.Conditional, name string, data []byte, v string) {
	t.Helper()
	if err := c.PutIf(context.Background(), name, data, v); err != nil {
		t.Fatalf("PutIf %s (version %q): %v", name, v, err)
	}
}

func mustGetVersion(t *testing.T, c blockstore.Conditional, name, want string) ([]byte, string) {
	t.Helper()
	data, v, err := c.GetVersion(context.Background(), name, 1<<10)
	if err != nil || string(data) != want || v == "" {
		t.Fatalf("GetVersion %s: %q %q %v, want %q and a version", name, data, v, err, want)
	}
	return data, v
}

// RunTempCleanup checks that a target stored in directory root (bare or
// behind any wrappers) still offers GC's temp cleanup: a stale ".tmp-" file
// of an interrupted Put is removed, a fresh one and real objects are kept.
func RunTempCleanup(t *testing.T, tg blockstore.Target, root string) {
	ctx := context.Background()
	c, ok := blockstore.As[blockstore.TempCleaner](tg)
	if !ok {
		t.Fatalf("%s (%T): RemoveStaleTemp is lost in its wrapper chain: give the wrapper Unwrap()", tg.Name(), tg)
	}
	mustPut(t, tg, "seg/0000000000000001.0", pattern(100, 9))
	stale := filepath.Join(root, "seg", ".tmp-00000000000000aa")
	fresh := filepath.Join(root, "seg", ".tmp-00000000000000bb")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, pattern(300, 1), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	n, size, err := c.RemoveStaleTemp(ctx, time.Hour)
	if err != nil || n != 1 || size != 300 {
		t.Fatalf("RemoveStaleTemp: %d files %d bytes %v, want 1 file of 300 bytes", n, size, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed: %v", err)
	}
	got := make([]byte, 100)
	if err := tg.ReadAt(ctx, "seg/0000000000000001.0", got, 0); err != nil || !bytes.Equal(got, pattern(100, 9)) {
		t.Errorf("object next to the temp files: %v", err)
	}
}
