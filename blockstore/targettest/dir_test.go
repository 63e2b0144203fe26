package targettest_test

import (
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/faulty"
	"github.com/rewind-backup/rewind/blockstore/targettest"
)

func newDir(t *testing.T) blockstore.Target {
	d, err := blockstore.NewDirTarget(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDirTarget(t *testing.T) { targettest.Run(t, newDir) }

func TestFaultyPassThrough(t *testing.T) {
	targettest.Run(t, func(t *testing.T) blockstore.Target { return faulty.Wrap(newDir(t)) })
}

func TestDirTempCleanup(t *testing.T) {
	root := t.TempDir()
	d, err := blockstore.NewDirTarget(root)
	if err != nil {
		t.Fatal(err)
	}
	targettest.RunTempCleanup(t, faulty.Wrap(d), root)
}
