package blockstore

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
)

// Store is one vault's chunk store: the Pebble index under Dir/index and the
// shard objects on the layout's targets. Safe for concurrent use.
//
// CONTRACT (bodies are filled in by the blockstore implementation; other
// packages code against these signatures).
type Store struct {
	db *pebble.DB
}

// Create makes a new store in dir (which must be empty or absent) with a fresh
// random master key wrapped by a key derived from passphrase (argon2id).
// targets[i] receives shard i of every segment.
func Create(ctx context.Context, dir string, passphrase []byte, targets []Target, opts Options) (*Store, error) {
	panic("blockstore.Create: not implemented yet")
}

// Open opens an existing store's index without its key: the store is locked
// (Get/Put fail with ErrLocked) until Unlock. An unrecognised directory gives
// ErrUnknownFormat and is left untouched.
func Open(ctx context.Context, dir string, targets []Target) (*Store, error) {
	panic("blockstore.Open: not implemented yet")
}

// Unlock unwraps the master key with passphrase. A wrong passphrase gives
// ErrWrongPassphrase and writes nothing.
func (s *Store) Unlock(passphrase []byte) error { panic("not implemented yet") }

// Locked reports whether the key is not (yet) in memory.
func (s *Store) Locked() bool { panic("not implemented yet") }

// Close flushes nothing: open (unsealed) data of unflushed writers is dropped.
func (s *Store) Close() error { panic("not implemented yet") }

// DB is the vault's Pebble database. Keys starting with "v/" belong to the
// catalog (package vault); every other prefix belongs to blockstore.
func (s *Store) DB() *pebble.DB { return s.db }

// Layout returns the store's erasure-coding profile.
func (s *Store) Layout() Layout { panic("not implemented yet") }

// ChangePassphrase re-wraps the master key only.
func (s *Store) ChangePassphrase(ctx context.Context, old, new []byte) error {
	panic("not implemented yet")
}

// ExportKey returns the wrapped master key with its KDF parameters (JSON); it
// is useless without the passphrase.
func (s *Store) ExportKey() ([]byte, error) { panic("not implemented yet") }

// Seal encrypts small catalog blobs with a key derived from the master key
// (AES-256-GCM, authenticated with aad). Open reverses it.
func (s *Store) SealBlob(plaintext, aad []byte) ([]byte, error)  { panic("not implemented yet") }
func (s *Store) OpenBlob(ciphertext, aad []byte) ([]byte, error) { panic("not implemented yet") }

// ChunkID computes the id data would get, without storing anything.
func (s *Store) ChunkID(data []byte) ID { panic("not implemented yet") }

// NewWriter starts a writing session (one per backup job). Every chunk the
// writer puts or deduplicates against is protected from GC until Close.
func (s *Store) NewWriter() *Writer { panic("not implemented yet") }

// Get returns a committed chunk's plaintext, verified against its id. Missing
// or corrupt shards are reconstructed from parity; beyond that a
// *CorruptionError names segment and chunk.
func (s *Store) Get(ctx context.Context, id ID) ([]byte, error) { panic("not implemented yet") }

// Has reports whether id is committed.
func (s *Store) Has(ctx context.Context, id ID) (bool, error) { panic("not implemented yet") }

// GC deletes every chunk live does not yield and that no open Writer holds.
func (s *Store) GC(ctx context.Context, live Enumerator) (GCStats, error) {
	panic("not implemented yet")
}

// Verify checks shard checksums and parity consistency (no key needed); with
// readData it also decodes every chunk.
func (s *Store) Verify(ctx context.Context, readData bool) (*VerifyReport, error) {
	panic("not implemented yet")
}

// Repair rebuilds missing or corrupt shards from parity, writing new shard
// objects atomically, and returns what it fixed.
func (s *Store) Repair(ctx context.Context) (*VerifyReport, error) { panic("not implemented yet") }

// RebuildIndex recreates the chunk index and segment records by reading every
// segment on the targets (after the Pebble database was lost).
func (s *Store) RebuildIndex(ctx context.Context) error { panic("not implemented yet") }

// Writer is one ingest session. Safe for concurrent Put from several goroutines.
type Writer struct{ s *Store }

// Put stores data (at most MaxChunkSize) unless a chunk with its id exists.
// The chunk becomes durable and visible to Get only after Flush.
func (w *Writer) Put(ctx context.Context, data []byte) (PutResult, error) {
	panic("not implemented yet")
}

// Flush seals and commits everything this writer put: shards fsynced on every
// target, then the index batch committed with sync.
func (w *Writer) Flush(ctx context.Context) error { panic("not implemented yet") }

// Close ends the session (after Flush, or to abandon it: unflushed chunks are
// dropped and GC may reclaim them).
func (w *Writer) Close() error { panic("not implemented yet") }

// NewDirTarget returns a Target storing objects as files under root (created
// if missing). Put writes a temp file, fsyncs it, renames it into place and
// fsyncs the directory.
func NewDirTarget(root string) (Target, error) { panic("not implemented yet") }
