package blockstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
)

func (o Options) withDefaults() Options {
	if o.Layout == (Layout{}) {
		o.Layout = Layout{DataShards: 4, ParityShards: 2}
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	return o
}

func checkLayout(l Layout, targets []Target) error {
	if l.DataShards < 1 || l.ParityShards < 0 || l.DataShards+l.ParityShards > 255 {
		return fmt.Errorf("bad layout %d+%d", l.DataShards, l.ParityShards)
	}
	if len(targets) != l.DataShards+l.ParityShards {
		return fmt.Errorf("layout %d+%d needs %d targets, got %d", l.DataShards, l.ParityShards,
			l.DataShards+l.ParityShards, len(targets))
	}
	return nil
}

func checkEmpty(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create store %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("create store %s: directory is not empty: choose an empty or new directory", dir)
	}
	return nil
}

func checkTargetsFree(ctx context.Context, targets []Target) error {
	for _, t := range targets {
		_, err := t.Stat(ctx, masterObject)
		if err == nil {
			return fmt.Errorf("target %s already holds a store (%s): use an empty target", t.Name(), masterObject)
		}
		if !errors.Is(err, ErrNotExist) {
			return err
		}
	}
	return nil
}

func putAll(ctx context.Context, targets []Target, name string, data []byte) error {
	for _, t := range targets {
		if err := t.Put(ctx, name, data); err != nil {
			return err
		}
	}
	return nil
}

// initDir creates the index with the format marker and wrapped key, then the
// marker file last: a crash in between leaves a dir Open refuses.
func initDir(dir string, w *wrappedKey, targets []Target, attach bool) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store %s: %w", dir, err)
	}
	opts := pebbleOptions()
	opts.ErrorIfExists = true
	db, err := pebble.Open(filepath.Join(dir, indexDir), opts)
	if err != nil {
		return nil, fmt.Errorf("create store %s: %w", dir, err)
	}
	b := db.NewBatch()
	b.Set(keyMaster, w.marshal(), nil)
	b.Set(keyFormat, formatValue(), nil)
	if attach {
		b.Set(keyNeedsRebuild, []byte{1}, nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		db.Close()
		return nil, fmt.Errorf("create store %s: %w", dir, err)
	}
	if err := writeTemp(dir, filepath.Join(dir, markerFile), []byte(markerContent)); err != nil {
		db.Close()
		return nil, fmt.Errorf("create store %s: %w", dir, err)
	}
	return newStore(db, dir, w, targets)
}
