package vmdisk

import (
	"context"
	"path/filepath"
	"testing"
)

// TestRekeyCopiesAPointBetweenStores: a disk point re-keyed into a store
// with another key restores byte-identical from there, keeps its source
// state, and a hash-compare backup against it stores only the changed block.
func TestRekeyCopiesAPointBetweenStores(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "disk.raw")
	sparseFile(t, src, 3*BlockSize+12345)
	writeAt(t, src, 0, randBytes(BlockSize+100))
	writeAt(t, src, 3*BlockSize, randBytes(12345))
	from, to := newTestStore(t), newTestStore(t)
	res := backupT(t, from, src, nil, BackupOptions{})

	w := to.NewWriter()
	root, stored, err := Rekey(ctx, from, w, res.Root)
	if err != nil || stored == 0 {
		t.Fatal(stored, err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if root == res.Root {
		t.Fatal("the re-keyed root has the seed store's id")
	}
	sameFiles(t, src, restoreT(t, to, Prev{Root: root}, RestoreOptions{}))

	writeAt(t, src, 2*BlockSize, []byte("changed"))
	next := backupT(t, to, src, &Prev{Root: root, SourceState: res.SourceState}, BackupOptions{})
	if next.Kind != "incremental" || next.BlocksNew != 1 {
		t.Fatalf("backup after the re-keyed point: kind %s, %d new blocks (want 1)", next.Kind, next.BlocksNew)
	}
	sameFiles(t, src, restoreT(t, to, Prev{Root: next.Root}, RestoreOptions{}))
}
