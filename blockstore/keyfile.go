package blockstore

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/zeebo/blake3"
)

// ctxKeyCheck derives the key-check value stored in the wrapped-key document:
// it lets a key file be verified without the passphrase and reveals nothing
// about the master key (blake3 key derivation is one-way).
const ctxKeyCheck = "rewind blockstore v1 key check"

// keyFileFormat names the key file document (FORMAT.md, "Key file").
const (
	keyFileFormat    = "rewind vault key"
	keyFileVersionV2 = 2
	maxKeyFileSize   = 1 << 12
)

// ErrKeyFileMismatch is returned when a key file does not hold this store's
// master key. Nothing is written.
var ErrKeyFileMismatch = errors.New("the key file does not hold this vault's key")

// keyFile is the document "vault key export" writes: the master key itself,
// so it opens the vault without the passphrase. It is as secret as the
// passphrase and the data together.
type keyFile struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Master  []byte `json:"master"`
}

func keyCheck(master [32]byte) []byte {
	c := make([]byte, 32)
	blake3.DeriveKey(ctxKeyCheck, master[:], c)
	return c
}

// parseKeyFile decodes a key file; a wrapped-key document from an older
// export is named as such (it needs the passphrase).
func parseKeyFile(b []byte) ([32]byte, error) {
	var m [32]byte
	if len(b) > maxKeyFileSize {
		return m, fmt.Errorf("key file too large (%d bytes): give the file \"rewind vault key export\" wrote", len(b))
	}
	var k keyFile
	if err := json.Unmarshal(b, &k); err != nil {
		return m, fmt.Errorf("key file is not a rewind key file: %w", err)
	}
	if k.Format == "" && looksWrapped(b) {
		return m, errors.New("this key file holds the key wrapped under the passphrase (exported by an older rewind): it cannot replace the passphrase; unlock with the passphrase and export the key again")
	}
	if k.Format != keyFileFormat || k.Version != keyFileVersionV2 || len(k.Master) != 32 {
		return m, fmt.Errorf("key file is not a rewind key file (format %q version %d): give the file \"rewind vault key export\" wrote", k.Format, k.Version)
	}
	copy(m[:], k.Master)
	return m, nil
}

// looksWrapped reports whether b looks like a wrapped-key document.
func looksWrapped(b []byte) bool {
	var w wrappedKey
	return json.Unmarshal(b, &w) == nil && w.KDF != ""
}

// masterFromKeyFile returns the master key in b after checking it against the
// key-check value of w.
func masterFromKeyFile(w *wrappedKey, b []byte) ([32]byte, error) {
	m, err := parseKeyFile(b)
	if err != nil {
		return m, err
	}
	if len(w.Check) == 0 {
		return m, errors.New("the vault's key has no check value (made before key files could unlock): unlock with the passphrase once and export the key again")
	}
	if subtle.ConstantTimeCompare(keyCheck(m), w.Check) != 1 {
		return m, ErrKeyFileMismatch
	}
	return m, nil
}

// UnlockKeyFile unlocks the store with a key file from ExportKeyFile instead
// of the passphrase. A key file of another vault gives ErrKeyFileMismatch; on
// an unlocked store the key file is checked against the key in memory.
func (s *Store) UnlockKeyFile(b []byte) error {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	w, err := s.wrapped()
	if err != nil {
		return err
	}
	m, err := masterFromKeyFile(w, b)
	if err != nil {
		return err
	}
	if cur := s.key.Load(); cur != nil {
		if subtle.ConstantTimeCompare(cur.master[:], m[:]) != 1 {
			return ErrKeyFileMismatch
		}
		return nil
	}
	s.key.Store(deriveKeys(m))
	return nil
}

// ChangePassphraseKeyFile re-wraps the master key under new, proving the
// right to do so with a key file instead of the old passphrase (which may be
// lost). Same write order as ChangePassphrase.
func (s *Store) ChangePassphraseKeyFile(ctx context.Context, keyFileDoc, new []byte) error {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	w, err := s.wrapped()
	if err != nil {
		return err
	}
	m, err := masterFromKeyFile(w, keyFileDoc)
	if err != nil {
		return err
	}
	return s.rewrap(ctx, m, new, w.SegSize)
}

// rewrap stores master wrapped under pass: every target's "keys/master"
// first, then the index (sync). Callers hold keyMu.
func (s *Store) rewrap(ctx context.Context, m [32]byte, pass []byte, segSize int) error {
	nw, err := wrapMaster(m, pass, s.layout, segSize)
	if err != nil {
		return err
	}
	return s.putWrapped(ctx, nw)
}

// addCheck writes w with its key-check value: to each target whose
// "keys/master" still holds w as the index has it (a target another host
// re-wrapped since, after a takeover, is left alone), then to the index.
func (s *Store) addCheck(ctx context.Context, w *wrappedKey, master [32]byte) error {
	old := w.marshal()
	w.Check = keyCheck(master)
	for _, t := range s.targets {
		cur, err := readMasterObject(ctx, t)
		if err != nil || !bytes.Equal(cur.marshal(), old) {
			continue
		}
		if err := t.Put(ctx, masterObject, w.marshal()); err != nil {
			return fmt.Errorf("store wrapped key on %s: %w", t.Name(), err)
		}
	}
	if err := s.db.Set(keyMaster, w.marshal(), pebble.Sync); err != nil {
		return fmt.Errorf("store wrapped key: %w", err)
	}
	return nil
}

func (s *Store) putWrapped(ctx context.Context, w *wrappedKey) error {
	if err := putAll(ctx, s.targets, masterObject, w.marshal()); err != nil {
		return fmt.Errorf("store wrapped key: %w", err)
	}
	if err := s.db.Set(keyMaster, w.marshal(), pebble.Sync); err != nil {
		return fmt.Errorf("store wrapped key: %w", err)
	}
	return nil
}

// ExportKeyFile returns the key file of an unlocked store (JSON, FORMAT.md
// "Key file"): the master key itself. A wrapped key without a check value
// (made by an older rewind) gets one first, on every target and in the index,
// so the key file can be verified later without the passphrase.
func (s *Store) ExportKeyFile(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	k, err := s.keys()
	if err != nil {
		return nil, err
	}
	w, err := s.wrapped()
	if err != nil {
		return nil, err
	}
	if len(w.Check) == 0 {
		if err := s.addCheck(ctx, w, k.master); err != nil {
			return nil, err
		}
	}
	return json.Marshal(keyFile{Format: keyFileFormat, Version: keyFileVersionV2, Master: k.master[:]})
}
