package vault

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// idGen makes short ids that sort by creation: a one-letter kind, then
// (Unix milliseconds × 64 + sequence) in base 36, zero-padded to 10 digits,
// e.g. "j0v9wq8k2ps". One generator serves the whole host so ids are unique
// across vaults; it never goes backwards, even when the clock does.
type idGen struct {
	now  func() time.Time
	mu   sync.Mutex
	last uint64
}

const idDigits = 10

func newIDGen(now func() time.Time) *idGen { return &idGen{now: now} }

func (g *idGen) next(kind byte) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := uint64(g.now().UnixMilli()) * 64
	if n <= g.last {
		n = g.last + 1
	}
	g.last = n
	return string(kind) + pad36(n)
}

// observe makes later ids sort after id (one read back from the catalog).
func (g *idGen) observe(id string) {
	if len(id) != idDigits+1 {
		return
	}
	n, err := strconv.ParseUint(id[1:], 36, 64)
	if err != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if n > g.last {
		g.last = n
	}
}

func pad36(n uint64) string {
	s := strconv.FormatUint(n, 36)
	if len(s) < idDigits {
		s = strings.Repeat("0", idDigits-len(s)) + s
	}
	return s
}

// Id kinds.
const (
	idJob      = 'j'
	idAudit    = 'a'
	idApproval = 'r'
)
