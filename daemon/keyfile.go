package daemon

import (
	"context"
	"errors"
	"net/http"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/vault"
)

// verifyCredential is verifyPassphrase for a key file when one is given: a
// wrong key file is counted and rate-limited like a wrong passphrase.
func (d *Daemon) verifyCredential(r *http.Request, v *vault.Vault, pass string, keyFile []byte) error {
	if keyFile == nil {
		return d.verifyPassphrase(r, v, pass)
	}
	who := principalName(r)
	if wait := d.unlockFails.wait(who, d.now()); wait > 0 {
		return rateLimited(who, wait)
	}
	d.unlockMu.Lock()
	defer d.unlockMu.Unlock()
	if err := v.UnlockKeyFile(keyFile); err != nil {
		if errors.Is(err, blockstore.ErrKeyFileMismatch) {
			d.unlockFails.fail(who, d.now())
			d.log.Warn("wrong key file", "vault", v.Name(), "by", who)
		}
		return err
	}
	d.unlockFails.reset(who)
	return nil
}

// rewrapPassphrase changes the passphrase with the old one or the key file.
func rewrapPassphrase(ctx context.Context, v *vault.Vault, req PassphraseChangeRequest) error {
	if req.OldKeyFile != nil {
		return v.ChangePassphraseKeyFile(ctx, req.OldKeyFile, []byte(req.New))
	}
	return v.ChangePassphrase(ctx, []byte(req.Old), []byte(req.New))
}
