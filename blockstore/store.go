package blockstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/klauspost/reedsolomon"
)

// Store is one vault's chunk store: the Pebble index under Dir/index and the
// shard objects on the layout's targets. Safe for concurrent use.
type Store struct {
	db      *pebble.DB
	dir     string
	targets []Target
	layout  Layout
	segSize int
	rs      reedsolomon.Encoder
	key     atomic.Pointer[keys]
	keyMu   sync.Mutex // serialises Unlock and ChangePassphrase
	nonces  *counter
	segs    *counter
	hdrs    headerCache

	mu       sync.Mutex
	open     *segment             // shared open segment, nil when none
	inflight map[ID]*segment      // chunks appended but not yet committed
	pending  map[uint64]*segment  // segments allocated and not yet committed or failed
	writers  map[*Writer]struct{} // open writers
	gcMarks  map[ID]struct{}      // non-nil while GC runs: chunks referenced since it started
	closed   bool

	sealSem chan struct{}
	sealWG  sync.WaitGroup
	bufs    chan []byte   // free segment buffers
	parity  chan [][]byte // free parity buffer sets
	gcMu    sync.Mutex

	ownMu sync.Mutex
	owner ownership // epoch and fence check (SetOwner), under ownMu

	needsRebuild atomic.Bool // set by Attach until RebuildIndex ran
}

// Defaults for Options.
const (
	DefaultSegmentSize = 16 << 20
	maxSealsInFlight   = 2
	maxSegmentSize     = 1 << 30 // entry offsets are uint32
)

// markerFile sits next to the index; Open refuses a directory without it.
const (
	markerFile    = "REWIND-BLOCKSTORE"
	markerContent = "rewind blockstore format 1\n"
	indexDir      = "index"
	masterObject  = "keys/master"
)

// Create makes a new store in dir (which must be empty or absent) with a fresh
// random master key wrapped by a key derived from passphrase (argon2id).
// targets[i] receives shard i of every segment.
func Create(ctx context.Context, dir string, passphrase []byte, targets []Target, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := checkLayout(opts.Layout, targets); err != nil {
		return nil, fmt.Errorf("create store %s: %w", dir, err)
	}
	if opts.SegmentSize > maxSegmentSize {
		return nil, fmt.Errorf("create store %s: segment size %d above %d", dir, opts.SegmentSize, maxSegmentSize)
	}
	if err := checkEmpty(dir); err != nil {
		return nil, err
	}
	if err := checkTargetsFree(ctx, targets); err != nil {
		return nil, err
	}
	master, err := randomKey()
	if err != nil {
		return nil, err
	}
	w, err := wrapMaster(master, passphrase, opts.Layout, opts.SegmentSize)
	if err != nil {
		return nil, err
	}
	if err := putAll(ctx, targets, masterObject, w.marshal()); err != nil {
		return nil, fmt.Errorf("create store %s: %w", dir, err)
	}
	s, err := initDir(dir, w, targets, false)
	if err != nil {
		return nil, err
	}
	s.key.Store(deriveKeys(master))
	return s, nil
}

func newStore(db *pebble.DB, dir string, w *wrappedKey, targets []Target) (*Store, error) {
	l := w.layout()
	if err := checkLayout(l, targets); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, dir: dir, targets: targets, layout: l, segSize: max(w.SegSize, 1),
		inflight: map[ID]*segment{}, pending: map[uint64]*segment{}, writers: map[*Writer]struct{}{},
		sealSem: make(chan struct{}, maxSealsInFlight), bufs: make(chan []byte, maxSealsInFlight),
		parity: make(chan [][]byte, maxSealsInFlight)}
	s.hdrs.m = map[shardRef]*shardHeader{}
	var err error
	if l.ParityShards > 0 {
		s.rs, err = reedsolomon.New(l.DataShards, l.ParityShards)
	}
	if err == nil {
		s.nonces, err = newCounter(db, keyNonceHW, nonceRange)
	}
	if err == nil {
		s.segs, err = newCounter(db, keySegHW, segRange)
	}
	if err == nil {
		var flagged bool
		_, flagged, err = getValue(db, keyNeedsRebuild)
		s.needsRebuild.Store(flagged)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return s, nil
}

// Open opens an existing store's index without its key: the store is locked
// (Get/Put fail with ErrLocked) until Unlock. An unrecognised directory gives
// ErrUnknownFormat and is left untouched.
func Open(ctx context.Context, dir string, targets []Target) (*Store, error) {
	m, err := os.ReadFile(filepath.Join(dir, markerFile))
	if err != nil || string(m) != markerContent {
		return nil, fmt.Errorf("open store %s: %w", dir, ErrUnknownFormat)
	}
	if _, err := os.Stat(filepath.Join(dir, indexDir)); err != nil {
		return nil, fmt.Errorf("open store %s: index missing: %w", dir, ErrUnknownFormat)
	}
	opts := pebbleOptions()
	opts.ErrorIfNotExists = true
	db, err := pebble.Open(filepath.Join(dir, indexDir), opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	w, err := readFormat(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return newStore(db, dir, w, targets)
}

func readFormat(db *pebble.DB) (*wrappedKey, error) {
	v, ok, err := getValue(db, keyFormat)
	if err != nil {
		return nil, err
	}
	if !ok || string(v) != string(formatValue()) {
		return nil, ErrUnknownFormat
	}
	v, ok, err = getValue(db, keyMaster)
	if err != nil || !ok {
		return nil, errors.Join(ErrUnknownFormat, err)
	}
	return parseWrappedKey(v)
}

// Unlock unwraps the master key with passphrase. A wrong passphrase gives
// ErrWrongPassphrase and writes nothing. On an unlocked store it verifies the
// passphrase the same way (the unwrapped key must equal the key in memory,
// compared in constant time) and keeps the key it has.
func (s *Store) Unlock(passphrase []byte) error {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	w, err := s.wrapped()
	if err != nil {
		return err
	}
	m, err := w.unwrap(passphrase)
	if err != nil {
		return err
	}
	if cur := s.key.Load(); cur != nil {
		if subtle.ConstantTimeCompare(cur.master[:], m[:]) != 1 {
			return ErrWrongPassphrase
		}
		return nil
	}
	s.key.Store(deriveKeys(m))
	return nil
}

func (s *Store) wrapped() (*wrappedKey, error) {
	v, ok, err := getValue(s.db, keyMaster)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &CorruptionError{Object: "master key", Reason: "missing from index"}
	}
	return parseWrappedKey(v)
}

// Locked reports whether the key is not (yet) in memory.
func (s *Store) Locked() bool { return s.key.Load() == nil }

func (s *Store) keys() (*keys, error) {
	k := s.key.Load()
	if k == nil {
		return nil, ErrLocked
	}
	return k, nil
}

// Close flushes nothing: open (unsealed) data of unflushed writers is dropped.
// It waits for running seals and a running GC to finish.
func (s *Store) Close() error {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.open = nil
	s.mu.Unlock()
	s.sealWG.Wait()
	return s.db.Close()
}

// DB is the vault's Pebble database. Keys starting with "v/" belong to the
// catalog (package vault); every other prefix belongs to blockstore.
func (s *Store) DB() *pebble.DB { return s.db }

// Layout returns the store's erasure-coding profile.
func (s *Store) Layout() Layout { return s.layout }

// Targets returns the shard targets, shard i on element i.
func (s *Store) Targets() []Target { return append([]Target(nil), s.targets...) }

// SegmentSize returns the open segment's sealing threshold in bytes.
func (s *Store) SegmentSize() int { return s.segSize }
