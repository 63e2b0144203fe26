package blockstore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFileUnlocksWithoutPassphrase: the exported key file opens the store
// after a reopen, re-wraps it under a new passphrase, and another store's key
// file or an old wrapped-key export is refused.
func TestKeyFileUnlocksWithoutPassphrase(t *testing.T) {
	ctx := context.Background()
	s, dir, ts := newTestStore(t, 200<<10)
	chunks := mixedChunks(7, 5, 40<<10)
	ids := putAllFlush(t, s, chunks)
	kf, err := s.ExportKeyFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wrappedDoc, _ := s.ExportKey()
	other, _, _ := newTestStore(t, 1<<20)
	otherKF, err := other.ExportKeyFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.UnlockKeyFile(otherKF); !errors.Is(err, ErrKeyFileMismatch) {
		t.Fatalf("another vault's key file: %v", err)
	}
	if err := s2.UnlockKeyFile(wrappedDoc); err == nil || !strings.Contains(err.Error(), "wrapped under the passphrase") {
		t.Fatalf("wrapped-key export: %v", err)
	}
	if !s2.Locked() {
		t.Fatal("a refused key file unlocked the store")
	}
	if err := s2.UnlockKeyFile(kf); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s2, ids, chunks)
	if err := s2.ChangePassphraseKeyFile(ctx, otherKF, []byte("new one")); !errors.Is(err, ErrKeyFileMismatch) {
		t.Fatalf("rewrap with another key file: %v", err)
	}
	if err := s2.ChangePassphraseKeyFile(ctx, kf, []byte("new one")); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s3, err := Open(ctx, dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if err := s3.Unlock(testPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase after rewrap: %v", err)
	}
	if err := s3.Unlock([]byte("new one")); err != nil {
		t.Fatal(err)
	}
	checkAll(t, s3, ids, chunks)
}

// TestKeyFileAddsCheckToOldKeys: a wrapped key without a check value (older
// vaults) gets one at export, on the targets too, so Attach + UnlockKeyFile work.
func TestKeyFileAddsCheckToOldKeys(t *testing.T) {
	ctx := context.Background()
	s, _, ts := newTestStore(t, 1<<20)
	w, err := s.wrapped()
	if err != nil {
		t.Fatal(err)
	}
	w.Check = nil
	if err := s.putWrapped(ctx, w); err != nil {
		t.Fatal(err)
	}
	kf, err := s.ExportKeyFile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Attach(ctx, filepath.Join(t.TempDir(), "again"), ts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.UnlockKeyFile(kf); err != nil {
		t.Fatal(err)
	}
}
