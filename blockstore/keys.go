package blockstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"

	"github.com/zeebo/blake3"
	"golang.org/x/crypto/argon2"
)

// KDF floor: a wrapped key asking for less work than this is refused, so an
// attacker who can write the key file cannot weaken the passphrase check.
const (
	kdfMinTime      = 1
	kdfMinMemoryKiB = 64 << 10
	kdfTime         = 1
	kdfMemoryKiB    = 64 << 10
	kdfThreads      = 2
	keyFileVersion  = 1
)

// Subkey contexts for blake3.DeriveKey over the master key.
const (
	ctxChunkID  = "rewind blockstore v1 chunk id"
	ctxChunkEnc = "rewind blockstore v1 chunk encryption"
	ctxBlob     = "rewind blockstore v1 catalog blob"
)

// wrappedKey is the JSON document stored under "b/key" and as "keys/master"
// on every target. Wrapped = AES-256-GCM(kek, nonce, master, aad="rewind master key v1").
type wrappedKey struct {
	Version int    `json:"version"`
	KDF     string `json:"kdf"`
	Time    uint32 `json:"time"`
	MemoryK uint32 `json:"memory_kib"`
	Threads uint8  `json:"threads"`
	Salt    []byte `json:"salt"`
	Nonce   []byte `json:"nonce"`
	Wrapped []byte `json:"wrapped"`
	Data    int    `json:"data_shards"`
	Parity  int    `json:"parity_shards"`
	SegSize int    `json:"segment_size"`
	// Check is keyCheck(master) (absent in keys made before key files could
	// unlock): it verifies a key file without the passphrase.
	Check []byte `json:"check,omitempty"`
}

var wrapAAD = []byte("rewind master key v1")

// keys holds the master key's subkeys once unlocked.
type keys struct {
	master [32]byte
	idKey  [32]byte
	enc    cipher.AEAD
	blob   cipher.AEAD
}

func newGCM(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // only on a wrong key length, a programming error
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

func deriveKeys(master [32]byte) *keys {
	k := &keys{master: master}
	blake3.DeriveKey(ctxChunkID, master[:], k.idKey[:])
	var enc, blob [32]byte
	blake3.DeriveKey(ctxChunkEnc, master[:], enc[:])
	blake3.DeriveKey(ctxBlob, master[:], blob[:])
	k.enc = newGCM(enc[:])
	k.blob = newGCM(blob[:])
	return k
}

func kek(pass []byte, w *wrappedKey) []byte {
	return argon2.IDKey(pass, w.Salt, w.Time, w.MemoryK, w.Threads, 32)
}

// wrapMaster seals master under a fresh salt and nonce derived from pass.
func wrapMaster(master [32]byte, pass []byte, l Layout, segSize int) (*wrappedKey, error) {
	w := &wrappedKey{Version: keyFileVersion, KDF: "argon2id", Time: kdfTime,
		MemoryK: kdfMemoryKiB, Threads: kdfThreads, Salt: make([]byte, 16),
		Nonce: make([]byte, 12), Data: l.DataShards, Parity: l.ParityShards, SegSize: segSize}
	if _, err := rand.Read(w.Salt); err != nil {
		return nil, fmt.Errorf("key salt: %w", err)
	}
	if _, err := rand.Read(w.Nonce); err != nil {
		return nil, fmt.Errorf("key nonce: %w", err)
	}
	w.Wrapped = newGCM(kek(pass, w)).Seal(nil, w.Nonce, master[:], wrapAAD)
	w.Check = keyCheck(master)
	return w, nil
}

// unwrap returns the master key, ErrWrongPassphrase, or a corruption error.
func (w *wrappedKey) unwrap(pass []byte) ([32]byte, error) {
	var m [32]byte
	if err := w.check(); err != nil {
		return m, err
	}
	pt, err := newGCM(kek(pass, w)).Open(nil, w.Nonce, w.Wrapped, wrapAAD)
	if err != nil {
		return m, ErrWrongPassphrase
	}
	copy(m[:], pt)
	return m, nil
}

func (w *wrappedKey) check() error {
	bad := func(r string) error { return &CorruptionError{Object: "master key", Reason: r} }
	switch {
	case w.Version != keyFileVersion || w.KDF != "argon2id":
		return bad(fmt.Sprintf("unknown key format %d/%q", w.Version, w.KDF))
	case w.Time < kdfMinTime || w.MemoryK < kdfMinMemoryKiB || w.Threads == 0:
		return bad("KDF parameters below the floor")
	case len(w.Salt) < 16 || len(w.Nonce) != 12 || len(w.Wrapped) != 48:
		return bad("malformed wrapped key")
	case len(w.Check) != 0 && len(w.Check) != 32:
		return bad("malformed key check")
	}
	return nil
}

func parseWrappedKey(b []byte) (*wrappedKey, error) {
	var w wrappedKey
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, &CorruptionError{Object: "master key", Reason: err.Error()}
	}
	return &w, w.check()
}

func (w *wrappedKey) layout() Layout { return Layout{DataShards: w.Data, ParityShards: w.Parity} }

func (w *wrappedKey) marshal() []byte {
	b, err := json.Marshal(w)
	if err != nil {
		panic(err)
	}
	return b
}
