package daemon

import (
	"net/http"

	"github.com/rewind-backup/rewind/vault"
)

// AttachRequest is POST /v1/vaults/attach: rebuild a vault on this host from
// its shard targets (after the old host and its data directory were lost).
type AttachRequest struct {
	Name       string   `json:"name"`
	Shards     []string `json:"shards"`
	Passphrase string   `json:"passphrase"`
	// Takeover attaches even while another host holds the vault's live owner
	// lease: the epoch is bumped and that host is fenced on its next write.
	Takeover bool `json:"takeover,omitempty"`
	// KeyFile opens the vault's key instead of Passphrase.
	KeyFile []byte `json:"key_file,omitempty"`
}

func (d *Daemon) hAttach(r *http.Request) (any, error) {
	var req AttachRequest
	if err := hostWide(r.Context(), "attach a vault"); err != nil {
		return nil, err
	}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if len(req.Shards) == 0 {
		return nil, Errf(CodeInvalid, "attach %s: give --shards with every shard target of the vault, in their original order", req.Name)
	}
	v, err := d.host.AttachWith(r.Context(), req.Name, req.Shards, []byte(req.Passphrase), vault.AttachOptions{Takeover: req.Takeover, KeyFile: req.KeyFile})
	if err != nil {
		return nil, err
	}
	d.bindThrottle(v)
	for _, w := range objectLockWarnings(r.Context(), req.Shards) {
		d.log.Warn("attached vault's shard target", "vault", req.Name, "problem", w)
	}
	owner := v.Owner()
	if owner == nil {
		owner = &vault.OwnerInfo{}
	}
	d.log.Info("vault attached from its shard targets", "vault", req.Name, "by", principalName(r), "takeover", req.Takeover, "epoch", owner.Epoch)
	d.sched.wake()
	return viewVault(v.Info(r.Context())), nil
}
