package blockstore

import (
	"context"
	"fmt"
	"time"
)

// Owner epochs. Every segment id and catalog checkpoint sequence carries the
// epoch of the owner lease its writer held, in its top 24 bits:
//
//	id = epoch << EpochShift | n      (n: the store's counter, < 2^40)
//
// so two writers of one vault (a fenced old owner and its successor) can
// never produce the same object name. Ids written before epochs existed are
// below 2^40: epoch 0. The chunk nonce carries the epoch in its first 4
// bytes (they were zero), so two writers never reuse a nonce either.
const (
	EpochShift = 40
	maxEpoch   = 1<<(64-EpochShift) - 1
)

// EpochOf returns the owner epoch a segment id or checkpoint sequence carries.
func EpochOf(id uint64) uint32 { return uint32(id >> EpochShift) }

// DefaultEpochGrace is how long after a takeover GC waits before it deletes
// unreferenced segments of older epochs (the old owner may still have been
// sealing one when it was fenced).
const DefaultEpochGrace = 24 * time.Hour

// ownership is the store's view of its owner lease: the epoch it writes
// with, when that epoch began, and the fence check run before every write.
type ownership struct {
	epoch uint32
	since time.Time
	grace time.Duration
	check func(ctx context.Context) error
}

// SetOwner makes the store write as owner epoch (which began at since):
// new segment ids and nonces carry it, and check (may be nil) runs before
// every segment seal, GC and repair; its error stops the write. GC deletes
// unreferenced segments of older epochs only once grace has passed since.
func (s *Store) SetOwner(epoch uint32, since time.Time, grace time.Duration, check func(ctx context.Context) error) error {
	if epoch > maxEpoch {
		return fmt.Errorf("owner epoch %d above %d", epoch, maxEpoch)
	}
	if err := s.segs.raise(uint64(epoch)<<EpochShift - 1); err != nil && epoch > 0 {
		return err
	}
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	s.owner = ownership{epoch: epoch, since: since, grace: grace, check: check}
	return nil
}

// ownerState returns a copy of the store's ownership.
func (s *Store) ownerState() ownership {
	s.ownMu.Lock()
	defer s.ownMu.Unlock()
	return s.owner
}

// Epoch returns the owner epoch the store writes with (0: none set).
func (s *Store) Epoch() uint32 { return s.ownerState().epoch }

// checkOwner runs the fence check; a fenced owner gets its error.
func (s *Store) checkOwner(ctx context.Context) error {
	check := s.ownerState().check
	if check == nil {
		return nil
	}
	return check(ctx)
}

// takeSegmentID hands out a segment id of the current epoch.
func (s *Store) takeSegmentID() (uint64, error) {
	id, err := s.segs.take()
	if err != nil {
		return 0, err
	}
	if e := s.Epoch(); e > 0 && EpochOf(id) != e {
		return 0, fmt.Errorf("segment counter %016x is outside owner epoch %d: re-attach the vault", id, e)
	}
	return id, nil
}

// mayDelete reports whether GC may delete an unreferenced segment: one of
// the current epoch always, one of an older epoch only after the grace
// period since the current epoch began, one of a newer epoch never.
func (s *Store) mayDelete(seg uint64, now time.Time) bool {
	e, o := EpochOf(seg), s.ownerState()
	switch {
	case e == o.epoch:
		return true
	case e < o.epoch:
		return now.Sub(o.since) >= o.grace
	}
	return false
}
