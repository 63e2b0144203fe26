package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/rewind-backup/rewind/blockstore"
)

// credential opens a vault's key: a key file when one is given, else the
// passphrase.
type credential struct {
	pass    []byte
	keyFile []byte
}

func (c credential) unlock(st *blockstore.Store, name string) error {
	if c.keyFile != nil {
		return keyFileError(name, st.UnlockKeyFile(c.keyFile))
	}
	if err := st.Unlock(c.pass); err != nil {
		return &Error{Kind: ErrInvalid, Err: err, Msg: fmt.Sprintf("vault %q: the passphrase does not open the key on its shard targets", name)}
	}
	return nil
}

// keyFileError names the vault and the fix for a refused key file.
func keyFileError(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, blockstore.ErrKeyFileMismatch):
		return &Error{Kind: ErrInvalid, Err: err, Msg: fmt.Sprintf("vault %q: the key file holds another vault's key (or one from before a layout change); nothing was changed", name)}
	case errors.Is(err, blockstore.ErrCorruption), errors.Is(err, blockstore.ErrLocked):
		return fmt.Errorf("vault %q: %w", name, err)
	}
	return &Error{Kind: ErrInvalid, Err: err, Msg: fmt.Sprintf("vault %q: %v", name, err)}
}

// UnlockKeyFile unlocks the vault with its key file instead of the
// passphrase (for a vault whose passphrase is lost). On an unlocked vault it
// checks the key file against the key in memory. A wrong key file wraps
// blockstore.ErrKeyFileMismatch and ErrInvalid; nothing is written.
func (v *Vault) UnlockKeyFile(keyFile []byte) error {
	return keyFileError(v.name, v.Store().UnlockKeyFile(keyFile))
}

// ChangePassphraseKeyFile re-wraps the vault key under new, proving the right
// with the key file instead of the (lost) old passphrase. Errors as
// UnlockKeyFile.
func (v *Vault) ChangePassphraseKeyFile(ctx context.Context, keyFile, new []byte) error {
	if len(new) == 0 {
		return invalid("vault %q needs a non-empty new passphrase", v.name)
	}
	return keyFileError(v.name, v.Store().ChangePassphraseKeyFile(ctx, keyFile, new))
}

// KeyFile returns the vault's key file (what ExportKey writes) for the
// caller to deliver; it never touches the disk. The vault must be unlocked.
func (v *Vault) KeyFile(ctx context.Context) ([]byte, error) {
	b, err := v.Store().ExportKeyFile(ctx)
	if err != nil {
		return nil, fmt.Errorf("export key of vault %q: %w", v.name, err)
	}
	return b, nil
}
