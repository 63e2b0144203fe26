package daemon

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// TokenInfo describes an API token; the secret itself is shown once, at
// creation, and only its SHA-256 is stored. By is the principal that created
// it and Lineage that principal's own creators (nearest first), so approvals
// can refuse a principal created by the requester. Vaults, when not empty,
// confines the token to those vaults.
type TokenInfo struct {
	ID      string    `json:"id"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
	By      string    `json:"created_by"`
	Lineage []string  `json:"lineage,omitempty"`
	Vaults  []string  `json:"vaults,omitempty"`
	Hash    string    `json:"hash,omitempty"`
}

// principal is the API principal a request with this token acts as.
func (t TokenInfo) principal() *Principal {
	return &Principal{Name: "token:" + t.ID, Roles: []Role{t.Role},
		Lineage: append([]string{t.By}, t.Lineage...), Vaults: t.Vaults}
}

// tokenStore keeps tokens in <data>/tokens.json (0600), hashed.
type tokenStore struct {
	mu     sync.Mutex
	path   string
	tokens []TokenInfo
}

func openTokens(dataDir string) (*tokenStore, error) {
	ts := &tokenStore{path: filepath.Join(dataDir, "tokens.json")}
	b, err := os.ReadFile(ts.path)
	if errors.Is(err, fs.ErrNotExist) {
		return ts, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	if err := json.Unmarshal(b, &ts.tokens); err != nil {
		return nil, fmt.Errorf("tokens file %s is damaged: %w (remove it and create tokens anew)", ts.path, err)
	}
	return ts, nil
}

// create makes a token like spec (ID, Created and Hash are set here) and
// returns it with its secret ("rwd_<id>_<secret>"). With first set, it is
// refused (forbidden) when a token of spec's role already exists, checked
// under the same lock as the write (the security-admin bootstrap).
func (ts *tokenStore) create(spec TokenInfo, now time.Time, first bool) (TokenInfo, string, error) {
	id, secret := randHex(6), randHex(24)
	full := "rwd_" + id + "_" + secret
	t := spec
	t.ID, t.Created, t.Hash = id, now.UTC(), hashToken(full)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if first && slices.ContainsFunc(ts.tokens, func(o TokenInfo) bool { return o.Role == spec.Role }) {
		return TokenInfo{}, "", Errf(CodeForbidden, "a %s token exists already: only a security admin creates more", spec.Role)
	}
	ts.tokens = append(ts.tokens, t)
	if err := ts.save(); err != nil {
		ts.tokens = ts.tokens[:len(ts.tokens)-1]
		return TokenInfo{}, "", err
	}
	t.Hash = ""
	return t, full, nil
}

// hasRole reports whether any token holds role.
func (ts *tokenStore) hasRole(role Role) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.tokens {
		if t.Role == role {
			return true
		}
	}
	return false
}

// get returns token id (without its hash).
func (ts *tokenStore) get(id string) (TokenInfo, error) {
	for _, t := range ts.list() {
		if t.ID == id {
			return t, nil
		}
	}
	return TokenInfo{}, Errf(CodeNotFound, "token %q not found: see \"rewind token list\"", id)
}

func (ts *tokenStore) list() []TokenInfo {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make([]TokenInfo, len(ts.tokens))
	for i, t := range ts.tokens {
		t.Hash = ""
		out[i] = t
	}
	return out
}

func (ts *tokenStore) revoke(id string) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for i, t := range ts.tokens {
		if t.ID == id {
			ts.tokens = append(ts.tokens[:i], ts.tokens[i+1:]...)
			return ts.save()
		}
	}
	return Errf(CodeNotFound, "token %q not found: see \"rewind token list\"", id)
}

// lookup finds the token whose hash matches secret, in constant time per entry.
func (ts *tokenStore) lookup(secret string) (TokenInfo, bool) {
	h := []byte(hashToken(secret))
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.tokens {
		if subtle.ConstantTimeCompare(h, []byte(t.Hash)) == 1 {
			return t, true
		}
	}
	return TokenInfo{}, false
}

func (ts *tokenStore) save() error {
	b, err := json.MarshalIndent(ts.tokens, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(ts.path, b, 0o600)
}

func hashToken(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

// writeFileAtomic writes via a temp file, fsync and rename.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
