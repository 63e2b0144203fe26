package daemon

import (
	"sync"
	"time"
)

// Passphrase guessing limits: after failFree wrong passphrases in a row a
// principal waits failBase before the next try, doubling with every further
// failure up to failMax. A right passphrase resets the count.
const (
	failFree = 3
	failBase = 30 * time.Second
	failMax  = 15 * time.Minute
)

// failLimiter counts consecutive failures per key (a principal, or a
// vault). The zero value is ready. Keys come from authenticated callers and
// existing vaults, so the map stays small.
type failLimiter struct {
	mu sync.Mutex
	m  map[string]failState
}

type failState struct {
	n     int
	until time.Time
}

// wait is how long who must still wait at now before trying again (0: go).
func (l *failLimiter) wait(who string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := l.m[who].until.Sub(now); w > 0 {
		return w
	}
	return 0
}

// fail records a failure of who at now.
func (l *failLimiter) fail(who string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]failState{}
	}
	s := l.m[who]
	s.n++
	if s.n >= failFree {
		wait := failBase << min(s.n-failFree, 10)
		s.until = now.Add(min(wait, failMax))
	}
	l.m[who] = s
}

// reset forgets who's failures.
func (l *failLimiter) reset(who string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, who)
}

// rateLimited is the API error for a principal that must wait.
func rateLimited(who string, wait time.Duration) *Error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &Error{Code: CodeRateLimited, RetryAfter: secs,
		Message: "too many wrong passphrases (from " + who + " or for this vault): try again in " + (time.Duration(secs) * time.Second).String()}
}
