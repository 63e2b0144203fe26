package blockstore

import (
	"errors"
	"testing"
)

// TestUnlockVerifiesWhenUnlocked: unlocking an unlocked store still checks
// the passphrase and keeps the key it has.
func TestUnlockVerifiesWhenUnlocked(t *testing.T) {
	s, _, _ := newTestStore(t, 1<<20)
	if s.Locked() {
		t.Fatal("the test store should start unlocked")
	}
	before := s.key.Load()
	if err := s.Unlock([]byte("not the passphrase")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase on an unlocked store: %v, want ErrWrongPassphrase", err)
	}
	if err := s.Unlock(testPass); err != nil {
		t.Fatalf("right passphrase on an unlocked store: %v", err)
	}
	if s.key.Load() != before {
		t.Fatal("a repeated unlock replaced the key in memory")
	}
}
