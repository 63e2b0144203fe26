package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFreezeLevels(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	thawed := filepath.Join(dir, "thawed")
	f := freeze(ctx, freezePlan{PreFreeze: "true", PostThaw: "touch " + thawed, Timeout: time.Minute})
	if f.Level != LevelApplication {
		t.Fatalf("a succeeding hook: %s", f.Level)
	}
	if w := f.Thaw(); len(w) != 0 {
		t.Fatalf("thaw warnings: %v", w)
	}
	if _, err := os.Stat(thawed); err != nil {
		t.Fatal("post-thaw did not run")
	}
	f = freeze(ctx, freezePlan{PreFreeze: "echo no >&2; exit 4", Timeout: time.Minute})
	if f.Level != LevelCrash || !strings.Contains(f.Reason, "pre-freeze hook failed") {
		t.Fatalf("a failing hook: %s %q", f.Level, f.Reason)
	}
	f.Thaw()
	// A freeze outliving its bound is thawed early and downgraded.
	os.Remove(thawed)
	f = freeze(ctx, freezePlan{PreFreeze: "true", PostThaw: "touch " + thawed, Timeout: 200 * time.Millisecond})
	time.Sleep(400 * time.Millisecond)
	if _, err := os.Stat(thawed); err != nil {
		t.Fatal("the bound did not thaw")
	}
	w := f.Thaw()
	if f.Level != LevelCrash || len(w) != 1 {
		t.Fatalf("after an expired freeze: %s %v", f.Level, w)
	}
}
