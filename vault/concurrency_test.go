package vault

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentCatalogUse runs writers and readers at once (meant for -race):
// every point lands with a distinct id and every job is recorded.
func TestConcurrentCatalogUse(t *testing.T) {
	ctx := context.Background()
	h, v, clock, _ := testVault(t)
	const items, perItem = 4, 10
	for i := 0; i < items; i++ {
		mustItem(t, v, fmt.Sprintf("item-%d", i), "")
	}
	var wg sync.WaitGroup
	errs := make(chan error, items*perItem*3)
	for i := 0; i < items; i++ {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			for k := 0; k < perItem; k++ {
				j, err := v.CreateJob(ctx, Job{Type: JobBackup, Item: name})
				if err == nil {
					_, err = v.AddPoint(ctx, Point{Item: name, Time: clock.Now(), Kind: Full, Consistency: ConsistencyCrash, Root: rootOf(name)})
				}
				if err == nil {
					_, err = v.FinishJob(ctx, j.ID, nil)
				}
				if err != nil {
					errs <- err
				}
			}
		}(fmt.Sprintf("item-%d", i))
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; k < perItem; k++ {
			h.List(ctx)
			if _, err := v.Expire(ctx, clock.Now().Add(time.Hour)); err != nil {
				errs <- err
			}
			if _, err := v.Usage(ctx); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := 0; i < items; i++ {
		ps, _ := v.Points(ctx, fmt.Sprintf("item-%d", i))
		if len(ps) != perItem {
			t.Fatalf("item-%d has %d points, want %d", i, len(ps), perItem)
		}
	}
	jobs, _ := v.Jobs(ctx, JobFilter{})
	if len(jobs) != items*perItem {
		t.Fatalf("%d jobs, want %d", len(jobs), items*perItem)
	}
}
