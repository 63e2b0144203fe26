package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/policy"
	"github.com/rewind-backup/rewind/vault"
)

// principalScheduler is who the scheduler's jobs are requested by.
const principalScheduler = "scheduler"

// scheduler runs each protected item's policy in its zone, catches up once
// after downtime, and sweeps (expiry + GC) every vault once a day.
type scheduler struct {
	d      *Daemon
	mu     sync.Mutex
	anchor map[string]time.Time // item key → last scheduled run considered
	next   map[string]time.Time // item key → next run
	swept  map[string]time.Time // vault → last sweep
	wakeCh chan struct{}
}

func newScheduler(d *Daemon) *scheduler {
	return &scheduler{d: d, anchor: map[string]time.Time{}, next: map[string]time.Time{},
		swept: map[string]time.Time{}, wakeCh: make(chan struct{}, 1)}
}

// dueRun decides, for a schedule whose last considered run was at anchor,
// whether a run is due at now (a missed slot runs once, however many were
// missed) and when the one after is.
func dueRun(s policy.Schedule, anchor, now time.Time) (run bool, next time.Time, err error) {
	due, err := s.Next(anchor)
	if err != nil {
		return false, time.Time{}, err
	}
	if due.After(now) {
		return false, due, nil
	}
	next, err = s.Next(now)
	return true, next, err
}

// wake makes the scheduler look again now (an item or policy changed).
func (s *scheduler) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

func (s *scheduler) nextRun(vaultName, item string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.next[itemKey(vaultName, item)]
	return t, ok
}

func (s *scheduler) run(ctx context.Context) {
	for {
		wait := s.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-s.wakeCh:
		case <-time.After(wait):
		}
	}
}

// tick starts what is due and returns how long to sleep.
func (s *scheduler) tick(ctx context.Context) time.Duration {
	now := s.d.now()
	wait := time.Minute
	for _, info := range s.d.host.List(ctx) {
		v, err := s.d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		if w := s.tickVault(ctx, v, now); w < wait {
			wait = w
		}
		s.maybeSweep(v, now)
	}
	return max(wait, 200*time.Millisecond)
}

func (s *scheduler) tickVault(ctx context.Context, v *vault.Vault, now time.Time) time.Duration {
	wait := time.Minute
	items, err := v.Items(ctx)
	if err != nil {
		s.d.log.Warn("scheduler: list items", "vault", v.Name(), "err", err)
		return wait
	}
	for _, it := range items {
		if it.State != vault.StatePending && it.State != vault.StateProtected {
			continue
		}
		next, ok := s.tickItem(ctx, v, it, now)
		if ok && next.Sub(now) < wait {
			wait = next.Sub(now)
		}
	}
	return wait
}

func (s *scheduler) tickItem(ctx context.Context, v *vault.Vault, it vault.Item, now time.Time) (time.Time, bool) {
	pol, err := v.Policy(ctx, it.Policy)
	if err != nil {
		return time.Time{}, false
	}
	key := itemKey(v.Name(), it.Name)
	anchor := s.anchorOf(ctx, v, it, key)
	run, next, err := dueRun(pol.Spec.Schedule, anchor, now)
	if err != nil {
		s.d.log.Warn("scheduler: bad schedule", "vault", v.Name(), "policy", it.Policy, "err", err)
		return time.Time{}, false
	}
	s.mu.Lock()
	s.next[key] = next
	if run {
		s.anchor[key] = now
	}
	s.mu.Unlock()
	if run {
		s.start(v, it)
	}
	return next, true
}

// anchorOf is the last scheduled run considered: remembered in memory, else
// the newest scheduled backup job of the item, else the item's creation.
func (s *scheduler) anchorOf(ctx context.Context, v *vault.Vault, it vault.Item, key string) time.Time {
	s.mu.Lock()
	a, ok := s.anchor[key]
	s.mu.Unlock()
	if ok {
		return a
	}
	a = it.Created
	jobs, err := v.Jobs(ctx, vault.JobFilter{Item: it.Name, Type: vault.JobBackup})
	if err == nil {
		for _, j := range jobs {
			if j.RequestedBy == principalScheduler && j.Created.After(a) {
				a = j.Created
			}
		}
	}
	s.mu.Lock()
	s.anchor[key] = a
	s.mu.Unlock()
	return a
}

func (s *scheduler) start(v *vault.Vault, it vault.Item) {
	if v.Locked() {
		s.d.log.Error("scheduled backup skipped: the vault is locked", "vault", v.Name(), "item", it.Name,
			"fix", "rewind vault unlock "+v.Name())
		return
	}
	job, err := s.d.startBackup(v, backupPlan{item: it}, principalScheduler)
	if err != nil {
		s.d.log.Warn("scheduled backup not started", "vault", v.Name(), "item", it.Name, "err", err)
		return
	}
	s.d.log.Info("scheduled backup started", "vault", v.Name(), "item", it.Name, "job", job.ID)
}

// maybeSweep runs the daily expiry and GC sweep of v at cfg.SweepAt (UTC).
func (s *scheduler) maybeSweep(v *vault.Vault, now time.Time) {
	if v.Locked() {
		return
	}
	sched := policy.Schedule{Kind: policy.Daily, Times: []string{s.d.cfg.SweepAt}}
	s.mu.Lock()
	last, ok := s.swept[v.Name()]
	if !ok {
		last = now // the first sweep comes at the next SweepAt, not at start
		s.swept[v.Name()] = now
	}
	s.mu.Unlock()
	run, _, err := dueRun(sched, last, now)
	if err != nil { // sweep_at is checked at start; this is a bug if it happens
		s.d.log.Error("daily sweep cannot be scheduled", "vault", v.Name(), "sweep_at", s.d.cfg.SweepAt, "err", err)
		return
	}
	if !run {
		return
	}
	s.mu.Lock()
	s.swept[v.Name()] = now
	s.mu.Unlock()
	job := vault.Job{Type: vault.JobGC, Vault: v.Name(), RequestedBy: principalScheduler}
	_, err = s.d.jobs.submit(v, job, maintenanceKey(v.Name()), func(ctx context.Context, jc *jobCtx) error {
		return s.d.runMaintenance(ctx, jc, v, vault.JobGC, false)
	})
	if err != nil {
		s.d.log.Warn("daily sweep not started", "vault", v.Name(), "err", err)
	}
}
