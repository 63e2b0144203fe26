package vault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// Owner lease defaults (FORMAT.md, "Owner lease"): renewed every
// DefaultLeaseRenew, live for DefaultLeaseValid after a renewal.
const (
	DefaultLeaseValid = 3 * time.Minute
	DefaultLeaseRenew = 30 * time.Second
)

// OwnerInfo is the vault's owner lease as this host sees it.
type OwnerInfo struct {
	Host     string `json:"host"`
	Hostname string `json:"hostname"`
	Epoch    uint32 `json:"epoch"`
	// Fenced is set when another host took the vault over: this host no
	// longer writes to it (reads, restores and verify still work).
	Fenced string `json:"fenced,omitempty"`
}

// ownership is a vault's lease holder and fence state.
type ownership struct {
	mu      sync.Mutex
	owner   *blockstore.Owner
	fenced  error // set once another host took over
	missing error // why the lease could not be taken at open (retried by RenewLeases)
}

func (h *Host) leaseValid() time.Duration {
	if h.opts.LeaseValid > 0 {
		return h.opts.LeaseValid
	}
	return DefaultLeaseValid
}

// acquire takes the owner lease of the store of vault name on its shard
// targets (mode: a blockstore.Lease* constant). It returns the lease, or
// the takeover that fenced this host (when resuming), or a refusal naming
// the live owner. A host without HostID (tests of the catalog alone) uses
// no leases: all nil.
func (h *Host) acquire(ctx context.Context, name string, st *blockstore.Store, mode int) (*blockstore.Owner, *blockstore.FencedError, error) {
	if h.opts.HostID == "" {
		return nil, nil, nil
	}
	me := blockstore.Lease{Host: h.opts.HostID, Hostname: h.opts.Hostname, ValidMS: h.leaseValid().Milliseconds()}
	o, err := blockstore.AcquireLease(ctx, st.Targets(), me, h.now(), mode)
	var held *blockstore.HeldError
	var fenced *blockstore.FencedError
	switch {
	case errors.As(err, &held):
		return nil, nil, heldRefusal(name, held.Holder)
	case errors.As(err, &fenced):
		return nil, fenced, nil
	case err != nil:
		return nil, nil, fmt.Errorf("vault %q: owner lease: %w", name, err)
	}
	return o, nil, nil
}

// checkHeld refuses early (before any rebuild) when another host holds a
// live lease on targets and takeover is not asked for.
func (h *Host) checkHeld(ctx context.Context, name string, targets []blockstore.Target, takeover bool) error {
	if h.opts.HostID == "" || takeover {
		return nil
	}
	l := blockstore.CurrentLease(ctx, targets)
	if l != nil && l.Host != h.opts.HostID && l.Live(h.now()) {
		return heldRefusal(name, *l)
	}
	return nil
}

func heldRefusal(name string, l blockstore.Lease) error {
	return refuse(ErrExists, "vault %q is owned by host %s (%s), epoch %d, lease renewed %s: stop rewind there, or if that host is lost or must stop writing, attach with --takeover (it will be fenced)",
		name, l.Host, l.Hostname, l.Epoch, l.Renewed.Format(time.RFC3339))
}

// adopt makes v's store write as the lease's owner, or, when fenced, makes
// every write fail with the takeover's message.
func (v *Vault) adopt(o *blockstore.Owner, fenced *blockstore.FencedError) error {
	grace := v.host.opts.EpochGrace
	if grace <= 0 {
		grace = blockstore.DefaultEpochGrace
	}
	if fenced != nil {
		v.fence(fenced)
		return v.Store().SetOwner(0, v.host.now(), grace, v.checkOwner)
	}
	if o == nil {
		return nil
	}
	v.lease.mu.Lock()
	v.lease.owner = o
	v.lease.mu.Unlock()
	l := o.Lease()
	return v.Store().SetOwner(l.Epoch, l.Since, grace, v.checkOwner)
}

// own takes the lease for an opened or created vault and adopts it.
func (v *Vault) own(ctx context.Context, mode int) error {
	o, f, err := v.host.acquire(ctx, v.name, v.Store(), mode)
	if err != nil {
		return err
	}
	v.lease.mu.Lock()
	v.lease.missing = nil
	v.lease.mu.Unlock()
	return v.adopt(o, f)
}

// ownAtOpen is own for a vault opened at start: when the lease cannot be
// taken (too few shard targets answer) the vault still opens for reads,
// every write fails saying why, and RenewLeases tries again.
func (v *Vault) ownAtOpen(ctx context.Context) error {
	err := v.own(ctx, blockstore.LeaseResume)
	if err == nil || v.host.opts.HostID == "" {
		return err
	}
	v.host.opts.Logger.Warn("owner lease not taken; no writes to the vault until it is (retried every renewal)", "vault", v.name, "err", err)
	v.lease.mu.Lock()
	v.lease.missing = fmt.Errorf("vault %s: this host does not hold the owner lease yet (%v): writes wait until a majority of its shard targets answer", v.name, err)
	v.lease.mu.Unlock()
	return v.Store().SetOwner(0, v.host.now(), v.host.opts.EpochGrace, v.checkOwner)
}

// fence records that another host took the vault over.
func (v *Vault) fence(f *blockstore.FencedError) error {
	v.lease.mu.Lock()
	defer v.lease.mu.Unlock()
	if v.lease.fenced == nil {
		v.lease.fenced = &Error{Kind: ErrInvalid, Err: f, Msg: fmt.Sprintf(
			"vault %s was taken over by host %s (%s) (epoch %d): this host no longer writes to it",
			v.name, f.By.Host, f.By.Hostname, f.By.Epoch)}
		v.host.opts.Logger.Error("vault taken over by another host: no more writes to it from this host",
			"vault", v.name, "by_host", f.By.Host, "by_hostname", f.By.Hostname, "epoch", f.By.Epoch)
	}
	return v.lease.fenced
}

// Fenced returns the error writes to the vault fail with after another host
// took it over, or nil.
func (v *Vault) Fenced() error {
	v.lease.mu.Lock()
	defer v.lease.mu.Unlock()
	return v.lease.fenced
}

// checkOwner is the store's fence check, run before every segment seal,
// GC, repair and catalog checkpoint.
func (v *Vault) checkOwner(ctx context.Context) error {
	if err := v.Fenced(); err != nil {
		return err
	}
	v.lease.mu.Lock()
	o, missing := v.lease.owner, v.lease.missing
	v.lease.mu.Unlock()
	if missing != nil {
		return missing
	}
	if o == nil {
		return nil
	}
	err := o.Check(ctx)
	var f *blockstore.FencedError
	if errors.As(err, &f) {
		return v.fence(f)
	}
	return err
}

// Owner describes the vault's lease (nil when the host uses none).
func (v *Vault) Owner() *OwnerInfo {
	v.lease.mu.Lock()
	defer v.lease.mu.Unlock()
	var info *OwnerInfo
	if v.lease.owner != nil {
		l := v.lease.owner.Lease()
		info = &OwnerInfo{Host: l.Host, Hostname: l.Hostname, Epoch: l.Epoch}
	}
	var fe *blockstore.FencedError
	if errors.As(v.lease.fenced, &fe) {
		info = &OwnerInfo{Host: fe.By.Host, Hostname: fe.By.Hostname, Epoch: fe.By.Epoch, Fenced: v.lease.fenced.Error()}
	}
	return info
}

// renew renews the vault's lease; a takeover found here fences the vault.
func (v *Vault) renew(ctx context.Context) error {
	if v.Fenced() != nil {
		return nil
	}
	v.lease.mu.Lock()
	o, missing := v.lease.owner, v.lease.missing
	v.lease.mu.Unlock()
	if missing != nil {
		return v.own(ctx, blockstore.LeaseResume)
	}
	if o == nil {
		return nil
	}
	err := o.Renew(ctx, v.host.now())
	var f *blockstore.FencedError
	if errors.As(err, &f) {
		return v.fence(f)
	}
	return err
}

// RenewLeases renews the owner lease of every open vault (the daemon calls
// it every DefaultLeaseRenew) and logs what fails.
func (h *Host) RenewLeases(ctx context.Context) {
	for _, v := range h.open() {
		if err := v.renew(ctx); err != nil && v.Fenced() == nil {
			h.opts.Logger.Warn("owner lease renewal failed; retrying", "vault", v.name, "err", err)
		}
	}
}
