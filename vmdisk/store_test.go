package vmdisk

import (
	"context"
	"sync"
	"testing"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/zeebo/blake3"
)

// memStore is a stand-in until the real store lands.
type memStore struct {
	mu      sync.Mutex
	chunks  map[blockstore.ID][]byte
	pending map[blockstore.ID][]byte
}

func (m *memStore) ChunkID(b []byte) blockstore.ID { return blockstore.ID(blake3.Sum256(b)) }

func (m *memStore) Get(ctx context.Context, id blockstore.ID) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.chunks[id]
	if !ok {
		return nil, blockstore.ErrNotFound
	}
	return append([]byte(nil), b...), nil
}

func (m *memStore) Put(ctx context.Context, b []byte) (blockstore.PutResult, error) {
	id := m.ChunkID(b)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.chunks[id]; ok {
		return blockstore.PutResult{ID: id}, nil
	}
	if _, ok := m.pending[id]; ok {
		return blockstore.PutResult{ID: id}, nil
	}
	m.pending[id] = append([]byte(nil), b...)
	return blockstore.PutResult{ID: id, New: true, Stored: len(b)}, nil
}

func (m *memStore) Flush(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.pending {
		m.chunks[k] = v
	}
	clear(m.pending)
	return nil
}

type testStore struct {
	Store
	w interface {
		ChunkWriter
		Flush(context.Context) error
	}
}

func newTestStore(t *testing.T) *testStore {
	m := &memStore{chunks: map[blockstore.ID][]byte{}, pending: map[blockstore.ID][]byte{}}
	return &testStore{Store: m, w: m}
}
