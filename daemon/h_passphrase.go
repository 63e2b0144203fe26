package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/rewind-backup/rewind/vault"
)

// PassphraseChangeRequest is POST /v1/vaults/{vault}/passphrase.
type PassphraseChangeRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
	// OldKeyFile proves the right to change instead of Old (a lost
	// passphrase): the vault's key file.
	OldKeyFile []byte `json:"old_key_file,omitempty"`
}

// hChangePassphrase re-wraps the vault key under a new passphrase, a
// critical operation. The current passphrase is checked first (counted and
// rate-limited like unlock), so a wrong one is refused at once; with
// approvals on, both passphrases wait in the request sealed with the vault's
// key (AES-256-GCM), never in clear.
func (d *Daemon) hChangePassphrase(r *http.Request) (any, error) {
	v, req, err := vaultRequest[PassphraseChangeRequest](d, r)
	if err != nil {
		return nil, err
	}
	if len(req.New) < 8 {
		return nil, Errf(CodeInvalid, "the new passphrase of vault %q is too short: use at least 8 characters (a long random one is best)", v.Name())
	}
	if v.Locked() {
		return nil, lockedError(v.Name())
	}
	if err := d.verifyCredential(r, v, req.Old, req.OldKeyFile); err != nil {
		return nil, err
	}
	sealed, err := sealPassphrases(v, req)
	if err != nil {
		return nil, err
	}
	if err := d.guard(r.Context(), v, []critical{critPassphraseChange}, pendingOp{Passphrases: sealed}); err != nil {
		return nil, err
	}
	return d.changePassphrase(r.Context(), v, req, principalName(r))
}

func passphraseAAD(v *vault.Vault) []byte { return []byte("rewind passphrase change v1 " + v.Name()) }

func sealPassphrases(v *vault.Vault, req PassphraseChangeRequest) ([]byte, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return v.Store().SealBlob(b, passphraseAAD(v))
}

func openPassphrases(v *vault.Vault, sealed []byte) (PassphraseChangeRequest, error) {
	var req PassphraseChangeRequest
	b, err := v.Store().OpenBlob(sealed, passphraseAAD(v))
	if err != nil {
		return req, fmt.Errorf("the sealed passphrases of the request cannot be opened (was the vault's key changed since?): %w", err)
	}
	return req, json.Unmarshal(b, &req)
}

func (d *Daemon) changePassphrase(ctx context.Context, v *vault.Vault, req PassphraseChangeRequest, who string) (any, error) {
	d.unlockMu.Lock()
	defer d.unlockMu.Unlock()
	if err := rewrapPassphrase(ctx, v, req); err != nil {
		return nil, err
	}
	d.log.Warn("vault passphrase changed: export the key again (rewind vault key export)", "vault", v.Name(), "by", who)
	return map[string]string{"vault": v.Name(), "passphrase": "changed"}, nil
}

// carryOutPassphrase changes the passphrase an approved request holds sealed.
func (d *Daemon) carryOutPassphrase(ctx context.Context, v *vault.Vault, sealed []byte, who string) (any, error) {
	req, err := openPassphrases(v, sealed)
	if err != nil {
		return nil, err
	}
	return d.changePassphrase(ctx, v, req, who)
}
