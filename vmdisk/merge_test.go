package vmdisk

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// TestQcow2BitmapRandomWrites: rounds of random unaligned writes, zero
// writes and discards; every incremental point restores byte-identical.
// REWIND_SOAK=1 runs 60 rounds instead of 4.
func TestQcow2BitmapRandomWrites(t *testing.T) {
	ts := newTestStore(t)
	f := newQcow(t, "48M")
	rng := rand.New(rand.NewPCG(7, 9))
	src, opts := "qcow2:"+f.path, BackupOptions{Bitmap: "B"}
	var prev *Prev
	rounds := 4
	if os.Getenv("REWIND_SOAK") != "" {
		rounds = 60
	}
	for round := range rounds {
		args := []string{"-f", "qcow2"}
		for k := range 25 {
			off, n := rng.Int64N(48<<20-400<<10)&^511, (1+rng.Int64N(600))*512
			cmd := fmt.Sprintf("write -P %d %d %d", 1+(round*25+k)%250, off, n)
			switch k % 7 {
			case 5:
				cmd = fmt.Sprintf("write -z %d %d", off, n)
			case 6:
				cmd = fmt.Sprintf("discard %d %d", off&^(64<<10-1), 128<<10)
			}
			args = append(args, "-c", cmd)
		}
		run(t, "qemu-io", append(args, f.path)...)
		r := backupT(t, ts, src, prev, opts)
		if round > 0 && r.Method != MethodBitmap {
			t.Fatalf("round %d: method %s %v", round, r.Method, r.Warnings)
		}
		sameFiles(t, f.snapshot(), restoreT(t, ts, *prevOf(r), RestoreOptions{}))
		prev = prevOf(r)
	}
}
