package vault

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestJobsSurviveReopenAndStaleOnesFail(t *testing.T) {
	ctx := context.Background()
	h, v, clock, dir := testVault(t)
	mustItem(t, v, "db", "")
	queued, err := v.CreateJob(ctx, Job{Type: JobRestore, Item: "db", RequestedBy: "alice", ApprovedBy: []string{"bob"}})
	must(t, err)
	running, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: "db"})
	must(t, err)
	_, err = v.StartJob(ctx, running.ID)
	must(t, err)
	clock.Add(time.Minute)
	_, err = v.SetJobProgress(ctx, running.ID, Progress{Done: 50, Total: 100, Rate: 1e6})
	must(t, err)
	done, err := v.CreateJob(ctx, Job{Type: JobGC})
	must(t, err)
	_, err = v.FinishJob(ctx, done.ID, nil)
	must(t, err)
	if !(queued.ID < running.ID && running.ID < done.ID) || len(queued.ID) != 11 {
		t.Fatalf("ids do not sort by creation: %s %s %s", queued.ID, running.ID, done.ID)
	}
	must(t, h.Close())

	clock.Add(time.Hour)
	h2 := testHost(t, dir, clock)
	v2, err := h2.Vault("prod-1")
	must(t, err)
	for _, id := range []string{queued.ID, running.ID} {
		j, err := v2.Job(ctx, id)
		must(t, err)
		if j.Status != JobFailed || j.Error != ReasonDaemonStopped || !j.Ended.Equal(clock.Now()) {
			t.Fatalf("stale job after reopen = %+v", j)
		}
	}
	j, err := v2.Job(ctx, running.ID)
	must(t, err)
	if j.Progress.Done != 50 || j.Started.IsZero() {
		t.Fatalf("running job lost its progress: %+v", j)
	}
	j, err = v2.Job(ctx, queued.ID)
	must(t, err)
	if j.RequestedBy != "alice" || len(j.ApprovedBy) != 1 {
		t.Fatalf("principals lost: %+v", j)
	}
	j, err = v2.Job(ctx, done.ID)
	must(t, err)
	if j.Status != JobCompleted {
		t.Fatalf("completed job after reopen = %+v", j)
	}
	byItem, err := v2.Jobs(ctx, JobFilter{Item: "db"})
	must(t, err)
	if len(byItem) != 2 {
		t.Fatalf("jobs of item db = %d, want 2", len(byItem))
	}
	// New ids keep sorting after the old ones, even with the clock set back.
	clock.Set(clock.Now().Add(-48 * time.Hour))
	next, err := v2.CreateJob(ctx, Job{Type: JobVerify})
	must(t, err)
	if next.ID <= done.ID {
		t.Fatalf("new id %s does not sort after %s", next.ID, done.ID)
	}
	last, err := v2.Jobs(ctx, JobFilter{Limit: 1})
	must(t, err)
	if len(last) != 1 || last[0].ID != next.ID {
		t.Fatalf("Limit 1 = %+v", last)
	}
}

func TestJobConflictsAndFinalJobs(t *testing.T) {
	ctx := context.Background()
	_, v, _, _ := testVault(t)
	mustItem(t, v, "db", "")
	mustItem(t, v, "web", "")
	b, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: "db"})
	must(t, err)
	_, err = v.CreateJob(ctx, Job{Type: JobBackup, Item: "db"})
	wantErr(t, err, ErrConflict, b.ID, "rewind job cancel")
	if _, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: "web"}); err != nil {
		t.Fatalf("backup of another item refused: %v", err)
	}
	g, err := v.CreateJob(ctx, Job{Type: JobGC})
	must(t, err)
	_, err = v.CreateJob(ctx, Job{Type: JobGC})
	wantErr(t, err, ErrConflict, g.ID)
	_, err = v.CreateJob(ctx, Job{Type: "dance"})
	wantErr(t, err, ErrInvalid)

	_, err = v.FinishJob(ctx, b.ID, errors.New("nbd: connection refused"))
	must(t, err)
	j, _ := v.Job(ctx, b.ID)
	if j.Status != JobFailed || j.Error != "nbd: connection refused" {
		t.Fatalf("failed job = %+v", j)
	}
	_, err = v.CancelJob(ctx, b.ID, "alice")
	wantErr(t, err, ErrConflict, "already ended")
	_, err = v.CancelJob(ctx, g.ID, "alice")
	must(t, err)
	_, err = v.Job(ctx, "j0000000000")
	wantErr(t, err, ErrNotFound)
}

func TestPruneJobs(t *testing.T) {
	ctx := context.Background()
	_, v, clock, _ := testVault(t)
	mustItem(t, v, "db", "")
	old, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: "db"})
	must(t, err)
	_, err = v.FinishJob(ctx, old.ID, nil)
	must(t, err)
	active, err := v.CreateJob(ctx, Job{Type: JobVerify})
	must(t, err)
	clock.Add(48 * time.Hour)
	recent, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: "db"})
	must(t, err)
	_, err = v.FinishJob(ctx, recent.ID, nil)
	must(t, err)
	n, err := v.PruneJobs(ctx, clock.Now().Add(-time.Hour))
	must(t, err)
	left, _ := v.Jobs(ctx, JobFilter{})
	byItem, _ := v.Jobs(ctx, JobFilter{Item: "db"})
	if n != 1 || len(left) != 2 || left[0].ID != active.ID || len(byItem) != 1 || byItem[0].ID != recent.ID {
		t.Fatalf("pruned %d, left %+v, by item %+v", n, left, byItem)
	}
}

func TestFindJobAcrossVaults(t *testing.T) {
	ctx := context.Background()
	h, _, _, _ := testVault(t)
	other, err := h.Create(ctx, "other", testPass, CreateOptions{Layout: StorageLayout{DataShards: 1}})
	must(t, err)
	j, err := other.CreateJob(ctx, Job{Type: JobVerify})
	must(t, err)
	v, got, err := h.FindJob(ctx, j.ID)
	must(t, err)
	if v.Name() != "other" || got.ID != j.ID || got.Vault != "other" {
		t.Fatalf("FindJob = %s %+v", v.Name(), got)
	}
	_, _, err = h.FindJob(ctx, "j0000000000")
	wantErr(t, err, ErrNotFound)
	_, err = other.CreateJob(ctx, Job{Type: JobBackup})
	wantErr(t, err, ErrInvalid, "item")
}
