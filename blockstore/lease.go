package blockstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LeaseObject is the owner lease's name on every shard target.
const LeaseObject = "lease/owner"

// Lease is the owner lease of a store, kept on a majority of its targets
// (FORMAT.md): which host writes to it, in which epoch, and until when the
// lease is live unless renewed.
type Lease struct {
	Host     string    `json:"host"`     // stable random id of the owning daemon's data directory
	Hostname string    `json:"hostname"` // for people: the owner's host name
	Epoch    uint32    `json:"epoch"`    // bumped by every change of owner
	Since    time.Time `json:"since"`    // UTC: when this epoch began
	Renewed  time.Time `json:"renewed"`  // UTC: last renewal
	ValidMS  int64     `json:"valid_ms"` // live until Renewed + ValidMS
}

// Live reports whether the lease was renewed recently enough to be held.
func (l *Lease) Live(now time.Time) bool {
	return now.Before(l.Renewed.Add(time.Duration(l.ValidMS) * time.Millisecond))
}

func (l *Lease) describe() string {
	return fmt.Sprintf("host %s (%s)", l.Host, l.Hostname)
}

// HeldError: AcquireLease found a live lease of another host.
type HeldError struct{ Holder Lease }

func (e *HeldError) Error() string {
	return fmt.Sprintf("owned by %s at epoch %d, renewed %s", e.Holder.describe(), e.Holder.Epoch, e.Holder.Renewed.Format(time.RFC3339))
}

// FencedError: another host took the store over; this one must stop writing.
type FencedError struct{ By Lease }

func (e *FencedError) Error() string {
	return fmt.Sprintf("taken over by %s (epoch %d)", e.By.describe(), e.By.Epoch)
}

// Is makes errors.Is(err, ErrFenced) true.
func (e *FencedError) Is(target error) bool { return target == ErrFenced }

// ErrFenced marks a FencedError.
var ErrFenced = errors.New("fenced: another host owns the store")

// ErrLeaseMissing: AcquireLease (attach) found no owner lease on targets
// that an owner epoch wrote to; only a takeover may proceed.
var ErrLeaseMissing = errors.New("the owner lease is missing: if no other host writes to this vault, attach with --takeover")

// topEpoch returns the highest owner epoch in the names of segments,
// catalog checkpoints (both carry it in their top bits) and epoch claims on
// targets, so a
// new epoch is above every writer's even when lease copies were deleted or
// replaced with old ones. Targets that cannot list are skipped while a
// majority can.
func topEpoch(ctx context.Context, targets []Target) (uint32, error) {
	var top uint32
	var errs []error
	for _, t := range targets {
		for _, prefix := range []string{"seg/", "catalog/", epochMarkerPrefix} {
			err := t.List(ctx, prefix, func(name string, _ int64) error {
				top = max(top, epochInName(prefix, name))
				return nil
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: list %s: %w", t.Name(), prefix, err))
				break
			}
		}
	}
	if len(errs) > len(targets)/2 { // every object is on every target: a majority listed sees every epoch
		return 0, fmt.Errorf("owner epochs in use: %w", errors.Join(errs...))
	}
	return top, nil
}

// epochMarkerPrefix names the claim of each owner epoch:
// "lease/epoch-<epoch, 8 hex digits>", created exclusively; it outlives a
// deleted or garbled lease copy, so no two hosts ever take the same epoch.
const epochMarkerPrefix = "lease/epoch-"

// epochInName returns the owner epoch in a listed name under prefix (0: none).
func epochInName(prefix, name string) uint32 {
	hex := strings.TrimPrefix(name, prefix)
	if prefix == epochMarkerPrefix {
		e, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			return 0
		}
		return uint32(e)
	}
	if len(hex) < 16 {
		return 0
	}
	id, err := strconv.ParseUint(hex[:16], 16, 64)
	if err != nil {
		return 0
	}
	return EpochOf(id)
}

// claimEpoch creates epoch's marker (holding host) on every target; it needs a majority
// (another host claiming the same epoch at once gets ErrPrecondition there).
func claimEpoch(ctx context.Context, targets []Target, epoch uint32, host string) error {
	name := fmt.Sprintf("%s%08x", epochMarkerPrefix, epoch)
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		c, ok := As[Conditional](t)
		if !ok {
			errs[i] = fmt.Errorf("%s: no conditional put", t.Name())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.PutIf(ctx, name, []byte(host+"\n"), "")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	if ok <= len(targets)/2 {
		return fmt.Errorf("claim owner epoch %d (%s) on a majority of shard targets, got %d of %d (another host attaching at the same time?): %w",
			epoch, name, ok, len(targets), errors.Join(errs...))
	}
	return nil
}

// claimHolder returns the host id in epoch's claim ("" when none is
// readable, or for epoch 0).
func claimHolder(ctx context.Context, targets []Target, epoch uint32) string {
	if epoch == 0 {
		return ""
	}
	name := fmt.Sprintf("%s%08x", epochMarkerPrefix, epoch)
	for _, t := range targets {
		if c, ok := As[Conditional](t); ok {
			if b, _, err := c.GetVersion(ctx, name, 256); err == nil && len(strings.TrimSpace(string(b))) > 0 {
				return strings.TrimSpace(string(b))
			}
		}
	}
	return ""
}

// Owner holds a store's lease on its targets and renews it.
type Owner struct {
	targets []Target
	mu      sync.Mutex
	lease   Lease
	fenced  *FencedError
}

// leaseCopy is one target's lease as read: nil when absent or unreadable.
type leaseCopy struct {
	lease   *Lease
	version string
	err     error
}

func readLeases(ctx context.Context, targets []Target) []leaseCopy {
	out := make([]leaseCopy, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = readLease(ctx, t)
		}()
	}
	wg.Wait()
	return out
}

func readLease(ctx context.Context, t Target) leaseCopy {
	c, ok := As[Conditional](t)
	if !ok {
		return leaseCopy{err: fmt.Errorf("%s: no conditional put: cannot hold an owner lease", t.Name())}
	}
	b, v, err := c.GetVersion(ctx, LeaseObject, 64<<10)
	if errors.Is(err, ErrNotExist) {
		return leaseCopy{}
	}
	if err != nil {
		return leaseCopy{err: err}
	}
	var l Lease
	if err := json.Unmarshal(b, &l); err != nil {
		return leaseCopy{version: v, err: &CorruptionError{Object: t.Name() + " " + LeaseObject, Reason: err.Error()}}
	}
	return leaseCopy{lease: &l, version: v}
}

// newest returns the lease with the highest epoch among copies (nil: none).
// Copies of two hosts at that epoch (a lost race of two attaches: the loser
// got no majority) resolve to the host with more copies.
func newest(copies []leaseCopy) *Lease {
	var top *Lease
	for _, c := range copies {
		l := c.lease
		switch {
		case l == nil:
		case top == nil || l.Epoch > top.Epoch:
			top = l
		case l.Epoch == top.Epoch && l.Host != top.Host && holders(copies, *l) > holders(copies, *top):
			top = l
		}
	}
	return top
}

// holders counts the copies that carry l's epoch and host.
func holders(copies []leaseCopy, l Lease) int {
	n := 0
	for _, c := range copies {
		if c.lease != nil && c.lease.Epoch == l.Epoch && c.lease.Host == l.Host {
			n++
		}
	}
	return n
}

// Acquire modes.
const (
	// LeaseResume: reopening a vault this host owned. Another host's lease
	// means this one was fenced (*FencedError); no lease at all (a vault
	// from before leases) starts epoch 1.
	LeaseResume = iota
	// LeaseAttach: a new owner, refused (*HeldError) while the lease is live.
	LeaseAttach
	// LeaseTakeover: a new owner even while the old one's lease is live.
	LeaseTakeover
)

// AcquireLease takes the owner lease for me.Host on a majority of targets.
// The same host resumes its epoch; another host gets a new epoch (one above
// the newest seen) as mode allows.
func AcquireLease(ctx context.Context, targets []Target, me Lease, now time.Time, mode int) (*Owner, error) {
	copies := readLeases(ctx, targets)
	cur := newest(copies)
	me.Renewed = now.UTC()
	switch {
	case cur != nil && cur.Host == me.Host:
		me.Epoch, me.Since = cur.Epoch, cur.Since
	case cur != nil && mode == LeaseResume:
		return nil, &FencedError{By: *cur}
	case cur != nil && cur.Live(now) && mode == LeaseAttach:
		return nil, &HeldError{Holder: *cur}
	default:
		top, err := topEpoch(ctx, targets)
		if err != nil {
			return nil, err
		}
		if cur == nil && top > 0 && mode == LeaseAttach {
			return nil, fmt.Errorf("%w: epoch %d wrote to these shard targets but no lease names its owner", ErrLeaseMissing, top)
		}
		if holder := claimHolder(ctx, targets, top); cur == nil && mode == LeaseResume && holder != "" && holder != me.Host {
			return nil, fmt.Errorf("%w: the newest epoch %d was claimed by host %s, not this one: this host may have been taken over; on the owner, or with --takeover elsewhere, the lease comes back", ErrLeaseMissing, top, holder)
		}
		if cur != nil {
			top = max(top, cur.Epoch)
		}
		me.Epoch, me.Since = top+1, now.UTC()
		if err := claimEpoch(ctx, targets, me.Epoch, me.Host); err != nil {
			return nil, err
		}
	}
	o := &Owner{targets: targets, lease: me}
	return o, o.write(ctx, copies, me)
}

// write puts l over each copy read (conditionally) and needs a majority.
func (o *Owner) write(ctx context.Context, copies []leaseCopy, l Lease) error {
	data, _ := json.Marshal(l)
	errs := make([]error, len(o.targets))
	var wg sync.WaitGroup
	for i, t := range o.targets {
		if copies[i].err != nil && copies[i].lease == nil && copies[i].version == "" {
			errs[i] = copies[i].err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = putLease(ctx, t, data, copies[i].version)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	if ok <= len(o.targets)/2 {
		return fmt.Errorf("owner lease reached %d of %d shard targets, a majority is needed: %w", ok, len(o.targets), errors.Join(errs...))
	}
	return nil
}

func putLease(ctx context.Context, t Target, data []byte, version string) error {
	c, _ := As[Conditional](t)
	err := c.PutIf(ctx, LeaseObject, data, version)
	if errors.Is(err, ErrPrecondition) { // a retried put may have landed: same bytes are ours
		if b, _, rerr := c.GetVersion(ctx, LeaseObject, 64<<10); rerr == nil && string(b) == string(data) {
			return nil
		}
	}
	return err
}

// Lease returns the lease as this owner last wrote it.
func (o *Owner) Lease() Lease {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lease
}

// Fenced returns the takeover that fenced this owner, or nil.
func (o *Owner) Fenced() *FencedError {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fenced
}

// fencedBy checks copies for a newer owner and remembers it: a higher epoch
// on any copy, or another host at this epoch on a majority (another host's
// copies on a minority are the leftovers of an attach that lost the race
// and failed; the next renewal replaces them).
func (o *Owner) fencedBy(copies []leaseCopy) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fenced != nil {
		return o.fenced
	}
	for _, c := range copies {
		l := c.lease
		if l != nil && (l.Epoch > o.lease.Epoch || (l.Epoch == o.lease.Epoch && l.Host != o.lease.Host && holders(copies, *l) > len(copies)/2)) {
			o.fenced = &FencedError{By: *l}
			return o.fenced
		}
	}
	return nil
}

// Check reads the lease on every target and returns a *FencedError when
// another host took over (checked before every segment seal and checkpoint).
func (o *Owner) Check(ctx context.Context) error {
	if f := o.Fenced(); f != nil {
		return f
	}
	return o.fencedBy(readLeases(ctx, o.targets))
}

// Renew re-reads the lease, fails with *FencedError when another host took
// over, and otherwise writes it with a new renewal time on a majority.
func (o *Owner) Renew(ctx context.Context, now time.Time) error {
	copies := readLeases(ctx, o.targets)
	if err := o.fencedBy(copies); err != nil {
		return err
	}
	l := o.Lease()
	l.Renewed = now.UTC()
	if err := o.write(ctx, copies, l); err != nil {
		return err
	}
	o.mu.Lock()
	o.lease = l
	o.mu.Unlock()
	return nil
}

// CurrentLease returns the newest owner lease on targets (nil: none).
func CurrentLease(ctx context.Context, targets []Target) *Lease {
	return newest(readLeases(ctx, targets))
}
