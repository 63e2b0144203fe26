// Package faulty wraps a blockstore.Target to inject failures in tests:
// failing Puts or reads after N calls, flipping bytes on the way out, and
// hiding objects as if they were lost.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rewind-backup/rewind/blockstore"
)

// ErrInjected is returned by injected failures.
var ErrInjected = errors.New("faulty: injected failure")

// Target is a fault-injecting Target. The zero faults pass everything through.
type Target struct {
	blockstore.Target
	mu         sync.Mutex
	putsLeft   int // < 0: unlimited
	readsLeft  int
	corrupt    map[string]int64 // object → offset whose byte reads flipped
	dropped    map[string]bool
	puts, gets int
}

// Wrap returns a pass-through faulty target around t.
func Wrap(t blockstore.Target) *Target {
	return &Target{Target: t, putsLeft: -1, readsLeft: -1, corrupt: map[string]int64{}, dropped: map[string]bool{}}
}

// Name marks the wrapper in errors.
func (f *Target) Name() string { return "faulty:" + f.Target.Name() }

// FailPutsAfter lets n more Puts succeed, then fails every Put; n < 0 heals.
func (f *Target) FailPutsAfter(n int) { f.mu.Lock(); f.putsLeft = n; f.mu.Unlock() }

// FailReadsAfter lets n more ReadAt calls succeed, then fails them; n < 0 heals.
func (f *Target) FailReadsAfter(n int) { f.mu.Lock(); f.readsLeft = n; f.mu.Unlock() }

// Corrupt flips the byte at off whenever a read of name covers it.
func (f *Target) Corrupt(name string, off int64) { f.mu.Lock(); f.corrupt[name] = off; f.mu.Unlock() }

// Drop makes name look missing to ReadAt, Stat and List (the object stays).
func (f *Target) Drop(name string) { f.mu.Lock(); f.dropped[name] = true; f.mu.Unlock() }

// Heal removes every injected fault.
func (f *Target) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putsLeft, f.readsLeft = -1, -1
	clear(f.corrupt)
	clear(f.dropped)
}

// Calls reports how many Puts and ReadAts went through the wrapper.
func (f *Target) Calls() (puts, reads int) { f.mu.Lock(); defer f.mu.Unlock(); return f.puts, f.gets }

func take(left *int) bool {
	if *left == 0 {
		return false
	}
	if *left > 0 {
		*left--
	}
	return true
}

func (f *Target) Put(ctx context.Context, name string, data []byte) error {
	f.mu.Lock()
	f.puts++
	ok := take(&f.putsLeft)
	if ok {
		delete(f.dropped, name)
	}
	f.mu.Unlock()
	if !ok {
		return fmt.Errorf("%s: put %s: %w", f.Name(), name, ErrInjected)
	}
	return f.Target.Put(ctx, name, data)
}

func (f *Target) ReadAt(ctx context.Context, name string, p []byte, off int64) error {
	f.mu.Lock()
	f.gets++
	ok, dropped := take(&f.readsLeft), f.dropped[name]
	bad, corrupt := f.corrupt[name]
	f.mu.Unlock()
	switch {
	case dropped:
		return fmt.Errorf("%s: read %s: %w", f.Name(), name, blockstore.ErrNotExist)
	case !ok:
		return fmt.Errorf("%s: read %s: %w", f.Name(), name, ErrInjected)
	}
	if err := f.Target.ReadAt(ctx, name, p, off); err != nil {
		return err
	}
	if corrupt && bad >= off && bad < off+int64(len(p)) {
		p[bad-off] ^= 0xff
	}
	return nil
}

func (f *Target) Stat(ctx context.Context, name string) (int64, error) {
	f.mu.Lock()
	dropped := f.dropped[name]
	f.mu.Unlock()
	if dropped {
		return 0, fmt.Errorf("%s: stat %s: %w", f.Name(), name, blockstore.ErrNotExist)
	}
	return f.Target.Stat(ctx, name)
}

func (f *Target) List(ctx context.Context, prefix string, fn func(string, int64) error) error {
	return f.Target.List(ctx, prefix, func(name string, size int64) error {
		f.mu.Lock()
		dropped := f.dropped[name]
		f.mu.Unlock()
		if dropped {
			return nil
		}
		return fn(name, size)
	})
}

// Unwrap returns the wrapped target (blockstore.Unwrapper).
func (f *Target) Unwrap() blockstore.Target { return f.Target }

// PutParts is Put of the joined parts, so injected put failures hold for
// callers that find a PutParts capability through blockstore.As.
func (f *Target) PutParts(ctx context.Context, name string, parts ...[]byte) error {
	var joined []byte
	for _, p := range parts {
		joined = append(joined, p...)
	}
	return f.Put(ctx, name, joined)
}

// GetVersion counts as a read: dropped objects are missing and injected read
// failures apply, then the inner target's conditional read runs.
func (f *Target) GetVersion(ctx context.Context, name string, max int64) ([]byte, string, error) {
	f.mu.Lock()
	f.gets++
	ok, dropped := take(&f.readsLeft), f.dropped[name]
	f.mu.Unlock()
	switch {
	case dropped:
		return nil, "", fmt.Errorf("%s: read %s: %w", f.Name(), name, blockstore.ErrNotExist)
	case !ok:
		return nil, "", fmt.Errorf("%s: read %s: %w", f.Name(), name, ErrInjected)
	}
	c, has := blockstore.As[blockstore.Conditional](f.Target)
	if !has {
		return nil, "", fmt.Errorf("%s: no conditional reads", f.Name())
	}
	return c.GetVersion(ctx, name, max)
}

// PutIf counts as a put: injected put failures apply.
func (f *Target) PutIf(ctx context.Context, name string, data []byte, version string) error {
	f.mu.Lock()
	f.puts++
	ok := take(&f.putsLeft)
	f.mu.Unlock()
	if !ok {
		return fmt.Errorf("%s: put %s: %w", f.Name(), name, ErrInjected)
	}
	c, has := blockstore.As[blockstore.Conditional](f.Target)
	if !has {
		return fmt.Errorf("%s: no conditional puts", f.Name())
	}
	return c.PutIf(ctx, name, data, version)
}
