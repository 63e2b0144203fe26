package daemon

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/vault"
)

// throttledTarget limits the bytes a vault writes to one shard target. All
// targets of a vault share one throttle that follows the vault's bandwidth
// setting (work/off hours), so the vault's shard writes as a whole keep to
// it. Item overrides apply to source reads only: a segment holds chunks of
// every running job.
type throttledTarget struct {
	blockstore.Target
	th atomic.Pointer[throttle]
}

func (t *throttledTarget) wait(ctx context.Context, n int) error {
	if th := t.th.Load(); th != nil {
		return th.WaitN(ctx, n)
	}
	return nil
}

// Put waits for the throttle, then stores the object.
func (t *throttledTarget) Put(ctx context.Context, name string, data []byte) error {
	if err := t.wait(ctx, len(data)); err != nil {
		return err
	}
	return t.Target.Put(ctx, name, data)
}

// PutParts keeps the inner target's cheaper multi-part put, throttled too.
func (t *throttledTarget) PutParts(ctx context.Context, name string, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if err := t.wait(ctx, n); err != nil {
		return err
	}
	if pp, ok := blockstore.As[blockstore.PartsPutter](t.Target); ok {
		return pp.PutParts(ctx, name, parts...)
	}
	var joined []byte
	for _, p := range parts {
		joined = append(joined, p...)
	}
	return t.Target.Put(ctx, name, joined)
}

// Unwrap returns the throttled target, so capabilities the throttle does
// not intercept (temp cleanup, conditional puts, object lock) are found
// through blockstore.As.
func (t *throttledTarget) Unwrap() blockstore.Target { return t.Target }

// openThrottled is the vault host's target opener: every shard target is
// wrapped so bindThrottle can attach its vault's throttle.
func openThrottled(spec string) (blockstore.Target, error) {
	t, err := openTarget(spec)
	if err != nil {
		return nil, err
	}
	return &throttledTarget{Target: t}, nil
}

// bindThrottle makes v's shard targets follow v's bandwidth setting.
func (d *Daemon) bindThrottle(v *vault.Vault) {
	th := newThrottle(func(t time.Time) int64 {
		s, err := v.Settings()
		if err != nil {
			return 0
		}
		return s.Bandwidth.RateAt(t)
	}, d.now)
	for _, t := range v.Store().Targets() {
		if tt, ok := blockstore.As[*throttledTarget](t); ok {
			tt.th.Store(th)
		}
	}
}

// bindThrottles binds every open vault.
func (d *Daemon) bindThrottles(ctx context.Context) {
	for _, info := range d.host.List(ctx) {
		if v, err := d.host.Vault(info.Name); err == nil {
			d.bindThrottle(v)
		}
	}
}
