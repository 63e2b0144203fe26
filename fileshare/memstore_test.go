package fileshare

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/rewind-backup/rewind/blockstore"
)

// memStore is an in-memory chunk store for the format-level unit tests
// (fuzzing, decoder checks); the end-to-end tests use the real blockstore.
type memStore struct {
	mu     sync.Mutex
	chunks map[blockstore.ID][]byte
}

func newMemStore() *memStore { return &memStore{chunks: map[blockstore.ID][]byte{}} }

func (m *memStore) ChunkID(data []byte) blockstore.ID { return sha256.Sum256(data) }

func (m *memStore) Put(ctx context.Context, data []byte) (blockstore.PutResult, error) {
	id := m.ChunkID(data)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.chunks[id]; ok {
		return blockstore.PutResult{ID: id}, nil
	}
	m.chunks[id] = append([]byte(nil), data...)
	return blockstore.PutResult{ID: id, New: true, Stored: len(data)}, nil
}

func (m *memStore) Get(ctx context.Context, id blockstore.ID) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.chunks[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, blockstore.ErrNotFound)
	}
	return d, nil
}
