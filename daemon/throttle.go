package daemon

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// throttle limits a job's bytes per second. The rate comes from rateAt (the
// vault's or item's work/off-hours setting, 0 = unlimited) and is looked up
// again at least once a second, so a changed setting reaches running jobs.
type throttle struct {
	rateAt func(time.Time) int64
	now    func() time.Time

	mu      sync.Mutex
	lim     *rate.Limiter
	current int64
	checked time.Time
}

func newThrottle(rateAt func(time.Time) int64, now func() time.Time) *throttle {
	return &throttle{rateAt: rateAt, now: now}
}

// WaitN blocks until n more bytes may pass, in slices small enough that a
// rate change takes effect promptly.
func (t *throttle) WaitN(ctx context.Context, n int) error {
	for n > 0 {
		lim := t.limiter()
		if lim == nil {
			return ctx.Err()
		}
		step := min(n, lim.Burst())
		if err := lim.WaitN(ctx, step); err != nil {
			return err
		}
		n -= step
	}
	return nil
}

// limiter returns the limiter for the rate in force, nil when unlimited.
func (t *throttle) limiter() *rate.Limiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if !t.checked.IsZero() && now.Sub(t.checked) < time.Second {
		return t.lim
	}
	t.checked = now
	r := t.rateAt(now)
	if r == t.current {
		return t.lim
	}
	t.current = r
	if r <= 0 {
		t.lim = nil
		return nil
	}
	// A burst of a tenth of a second of traffic (at least 64 KiB) keeps the
	// rate smooth without starving large reads.
	burst := int(max(r/10, 64<<10))
	if t.lim == nil {
		t.lim = rate.NewLimiter(rate.Limit(r), burst)
		t.lim.AllowN(now, burst) // start empty: no free first burst
	} else {
		t.lim.SetLimit(rate.Limit(r))
		t.lim.SetBurst(burst)
	}
	return t.lim
}
