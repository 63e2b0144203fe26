package blockstore

import (
	"context"
	"errors"
)

var errTODO = errors.New("blockstore: not implemented yet")

// GC deletes every chunk live does not yield and that no open Writer holds.
func (s *Store) GC(ctx context.Context, live Enumerator) (GCStats, error) {
	return GCStats{}, errTODO
}

// Verify checks shard checksums and parity consistency (no key needed); with
// readData it also decodes every chunk.
func (s *Store) Verify(ctx context.Context, readData bool) (*VerifyReport, error) {
	return nil, errTODO
}

// Repair rebuilds missing or corrupt shards from parity, writing new shard
// objects atomically, and returns what it fixed.
func (s *Store) Repair(ctx context.Context) (*VerifyReport, error) { return nil, errTODO }

// RebuildIndex recreates the chunk index and segment records by reading every
// segment on the targets (after the Pebble database was lost).
func (s *Store) RebuildIndex(ctx context.Context) error { return errTODO }
