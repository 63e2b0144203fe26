package blockstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
)

func randomKey() ([32]byte, error) {
	var m [32]byte
	if _, err := rand.Read(m[:]); err != nil {
		return m, fmt.Errorf("master key: %w", err)
	}
	return m, nil
}

// ChangePassphrase re-wraps the master key only: the new wrapping goes to
// every target's "keys/master" first, then to the index (sync).
func (s *Store) ChangePassphrase(ctx context.Context, old, new []byte) error {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	w, err := s.wrapped()
	if err != nil {
		return err
	}
	m, err := w.unwrap(old)
	if err != nil {
		return err
	}
	if err := s.rewrap(ctx, m, new, w.SegSize); err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	return nil
}

// ExportKey returns the wrapped master key with its KDF parameters (JSON); it
// is useless without the passphrase.
func (s *Store) ExportKey() ([]byte, error) {
	w, err := s.wrapped()
	if err != nil {
		return nil, err
	}
	return w.marshal(), nil
}

// SealBlob encrypts small catalog blobs with a key derived from the master key
// (AES-256-GCM, authenticated with aad): output = 12-byte random nonce || ciphertext.
func (s *Store) SealBlob(plaintext, aad []byte) ([]byte, error) {
	k, err := s.keys()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 12, 12+len(plaintext)+gcmTagLen)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("blob nonce: %w", err)
	}
	return k.blob.Seal(out, out[:12], plaintext, aad), nil
}

// OpenBlob reverses SealBlob; tampering gives a *CorruptionError.
func (s *Store) OpenBlob(ciphertext, aad []byte) ([]byte, error) {
	k, err := s.keys()
	if err != nil {
		return nil, err
	}
	if len(ciphertext) < 12+gcmTagLen {
		return nil, &CorruptionError{Reason: "blob truncated"}
	}
	pt, err := k.blob.Open(nil, ciphertext[:12], ciphertext[12:], aad)
	if err != nil {
		return nil, &CorruptionError{Reason: "blob authentication failed"}
	}
	return pt, nil
}

// ChunkID computes the id data would get, without storing anything. It
// returns the zero ID while the store is locked.
func (s *Store) ChunkID(data []byte) ID {
	k := s.key.Load()
	if k == nil {
		return ID{}
	}
	return k.chunkID(data)
}

// Attach re-creates a store in the empty directory dir from its targets alone
// (the wrapped key in "keys/master"), after the index was lost. The store is
// locked and its index empty: Unlock, then RebuildIndex before anything else.
func Attach(ctx context.Context, dir string, targets []Target) (*Store, error) {
	if err := checkEmpty(dir); err != nil {
		return nil, err
	}
	var errs []error
	for _, t := range targets {
		w, err := readMasterObject(ctx, t)
		if err == nil {
			return initDir(dir, w, targets, true)
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("attach %s: no readable %s: %w", dir, masterObject, errors.Join(errs...))
}

func readMasterObject(ctx context.Context, t Target) (*wrappedKey, error) {
	n, err := t.Stat(ctx, masterObject)
	if err != nil {
		return nil, err
	}
	if n > 1<<16 {
		return nil, &CorruptionError{Object: masterObject, Reason: "too large"}
	}
	b := make([]byte, n)
	if err := t.ReadAt(ctx, masterObject, b, 0); err != nil {
		return nil, err
	}
	return parseWrappedKey(b)
}
