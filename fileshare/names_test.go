package fileshare

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
)

// TestExternalNameSort: a directory sorted through spilled runs gives the
// very same point as one sorted in memory, and leaves no files behind.
func TestExternalNameSort(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	for i := 0; i < 3000; i++ {
		writeFile(t, filepath.Join(src, "big", "n"+itoa(i*104729%7919)+"-"+itoa(i)), nil, 0o644)
	}
	s := newStore(t)
	inMemory := backupTo(t, s, src, blockstore.ID{}, BackupOptions{})
	defer func(n int) { nameRunMax = n }(nameRunMax)
	nameRunMax = 250 // 12 spilled runs
	tmp := t.TempDir()
	spilled := backupTo(t, s, src, blockstore.ID{}, BackupOptions{TempDir: tmp})
	if spilled.Root != inMemory.Root || spilled.Entries != 3001 {
		t.Fatalf("external sort: root %s entries %d, in memory: root %s", spilled.Root, spilled.Entries, inMemory.Root)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Fatalf("spill files left behind: %v", ents)
	}
}
