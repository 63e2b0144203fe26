package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/vault"
)

// checkpointer writes a vault's catalog to its shard targets after changes,
// coalesced: at most one checkpoint of a vault runs at a time, and changes
// that arrive meanwhile are covered by one more checkpoint after it.
type checkpointer struct {
	d       *Daemon
	mu      sync.Mutex
	pending map[string]chan struct{}
	wg      sync.WaitGroup
}

func newCheckpointer(d *Daemon) *checkpointer {
	return &checkpointer{d: d, pending: map[string]chan struct{}{}}
}

// changed notes that v's catalog changed.
func (c *checkpointer) changed(v *vault.Vault) {
	if v.Locked() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.pending[v.Name()]
	if !ok {
		ch = make(chan struct{}, 1)
		c.pending[v.Name()] = ch
		c.wg.Add(1)
		go c.loop(v, ch)
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop(v *vault.Vault, ch chan struct{}) {
	defer c.wg.Done()
	for range ch {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		if err := v.Checkpoint(ctx); err != nil {
			c.d.log.Warn("catalog checkpoint to the shard targets failed; the next change retries", "vault", v.Name(), "err", err)
		}
		cancel()
	}
}

// stop waits for the checkpoints in flight and the ones still due.
func (c *checkpointer) stop() {
	c.mu.Lock()
	for name, ch := range c.pending {
		close(ch)
		delete(c.pending, name)
	}
	c.mu.Unlock()
	c.wg.Wait()
}
