package vault

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// kv is the catalog's view of the vault's Pebble database.
type kv struct{ db *pebble.DB }

// getJSON decodes the value at key into out; found is false when absent.
func (k kv) getJSON(key string, out any) (found bool, err error) {
	val, closer, err := k.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read catalog key %s: %w", key, err)
	}
	defer closer.Close()
	if err := json.Unmarshal(val, out); err != nil {
		return false, fmt.Errorf("decode catalog key %s: %w", key, err)
	}
	return true, nil
}

// scan calls fn with every key and value under prefix, in key order. The
// value is only valid during the call.
func (k kv) scan(prefix string, fn func(key string, val []byte) error) error {
	it, err := k.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte(prefix),
		UpperBound: prefixEnd(prefix),
	})
	if err != nil {
		return fmt.Errorf("scan catalog %s: %w", prefix, err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(string(it.Key()), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("scan catalog %s: %w", prefix, err)
	}
	return nil
}

// last returns the greatest key under prefix, or "" when there is none.
func (k kv) last(prefix string) (string, error) {
	it, err := k.db.NewIter(&pebble.IterOptions{
		LowerBound: []byte(prefix),
		UpperBound: prefixEnd(prefix),
	})
	if err != nil {
		return "", fmt.Errorf("scan catalog %s: %w", prefix, err)
	}
	var key string
	if it.Last() {
		key = string(it.Key())
	}
	return key, it.Close()
}

// scanJSON decodes every value under prefix as T and calls fn with it.
func scanJSON[T any](k kv, prefix string, fn func(T) error) error {
	return k.scan(prefix, func(key string, val []byte) error {
		var rec T
		if err := json.Unmarshal(val, &rec); err != nil {
			return fmt.Errorf("decode catalog key %s: %w", key, err)
		}
		return fn(rec)
	})
}

// listJSON returns every value under prefix decoded as T, in key order.
func listJSON[T any](k kv, prefix string) ([]T, error) {
	var out []T
	err := scanJSON(k, prefix, func(rec T) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// prefixEnd is the smallest key greater than every key starting with prefix.
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// txn is one catalog write: a Pebble batch committed with Sync.
type txn struct {
	b    *pebble.Batch
	done bool
}

func (k kv) begin() *txn { return &txn{b: k.db.NewBatch()} }

func (t *txn) put(key string, rec any) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode catalog key %s: %w", key, err)
	}
	return t.b.Set([]byte(key), val, nil)
}

func (t *txn) del(key string) error { return t.b.Delete([]byte(key), nil) }

func (t *txn) commit() error {
	defer t.abort()
	if err := t.b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("commit catalog batch: %w", err)
	}
	return nil
}

// abort drops an uncommitted batch; after commit it does nothing.
func (t *txn) abort() {
	if !t.done {
		t.done = true
		t.b.Close()
	}
}
