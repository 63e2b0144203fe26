package blockstore

import (
	"context"
	"fmt"
)

// Copier copies chunks read from one store into a writer of another, which
// may hold other keys (a seed imported into a vault, so every id changes).
// Each distinct chunk is read and stored once: later Copy calls for the same
// id return the first copy's id. Memory: one old→new id pair (64 bytes) per
// distinct chunk copied.
type Copier struct {
	r interface {
		Get(ctx context.Context, id ID) ([]byte, error)
	}
	w interface {
		Put(ctx context.Context, data []byte) (PutResult, error)
	}
	ids    map[ID]ID
	stored int64
}

// NewCopier copies from r (e.g. a *Store) into w (e.g. a *Writer).
func NewCopier(r interface {
	Get(ctx context.Context, id ID) ([]byte, error)
}, w interface {
	Put(ctx context.Context, data []byte) (PutResult, error)
}) *Copier {
	return &Copier{r: r, w: w, ids: map[ID]ID{}}
}

// Copy returns the id of chunk id's copy in the writer, reading and storing
// it the first time. A chunk that cannot be read is an error naming it.
func (c *Copier) Copy(ctx context.Context, id ID) (ID, error) {
	if n, ok := c.ids[id]; ok {
		return n, nil
	}
	data, err := c.r.Get(ctx, id)
	if err != nil {
		return ID{}, fmt.Errorf("chunk %s: %w", id, err)
	}
	n, err := c.Put(ctx, data)
	if err != nil {
		return ID{}, err
	}
	c.ids[id] = n
	return n, nil
}

// Put stores data (an object rewritten to name the copies: a map page, a
// directory) in the writer and returns its id.
func (c *Copier) Put(ctx context.Context, data []byte) (ID, error) {
	res, err := c.w.Put(ctx, data)
	if err != nil {
		return ID{}, err
	}
	c.stored += int64(res.Stored)
	return res.ID, nil
}

// Stored is the encoded bytes the writer stored for this copier, in bytes.
func (c *Copier) Stored() int64 { return c.stored }
