package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
)

// walkers tells the catalog's GC how to find every chunk a point references.
func walkers(r *blockstore.Store) vault.Walkers {
	return vault.Walkers{
		vault.KindDisk: func(ctx context.Context, root blockstore.ID, yield func(blockstore.ID) error) error {
			return vmdisk.Refs(ctx, r, root, yield)
		},
		vault.KindShare: func(ctx context.Context, root blockstore.ID, yield func(blockstore.ID) error) error {
			return fileshare.Refs(ctx, r, root, yield)
		},
	}
}

// jobHistory is how long the records of ended jobs are kept; the gc sweep
// removes older ones so the catalog (and every checkpoint of it) stays small.
const jobHistory = 180 * 24 * time.Hour

// maintenanceKey keeps a vault's verify/gc/repair jobs from overlapping.
func maintenanceKey(v string) string { return v + "/#maintenance" }

func (d *Daemon) hMaintenance(kind vault.JobType) handlerFunc {
	return func(r *http.Request) (any, error) {
		v, err := d.vaultOf(r)
		if err != nil {
			return nil, err
		}
		var req MaintenanceRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		// Verify without --read-data checks shards and parity and needs no key.
		if v.Locked() && (kind != vault.JobVerify || req.ReadData) {
			return nil, lockedError(v.Name())
		}
		job := vault.Job{Type: kind, Vault: v.Name(), RequestedBy: principalName(r)}
		return d.jobs.submit(v, job, maintenanceKey(v.Name()), func(ctx context.Context, jc *jobCtx) error {
			return d.runMaintenance(ctx, jc, v, kind, req.ReadData)
		})
	}
}

func (d *Daemon) runMaintenance(ctx context.Context, jc *jobCtx, v *vault.Vault, kind vault.JobType, readData bool) error {
	switch kind {
	case vault.JobGC:
		res, err := v.Sweep(ctx, d.now(), walkers(v.Store()))
		if err != nil {
			return err
		}
		pruned, err := v.PruneJobs(ctx, d.now().Add(-jobHistory))
		if err != nil {
			return err
		}
		jc.update(func(j *vault.Job) {
			j.Detail = fmt.Sprintf("%d points expired, %d items purged, %d bytes reclaimed, %d old job records removed",
				len(res.PointsDeleted), len(res.ItemsPurged), res.GC.BytesReclaimed, pruned)
		})
		return nil
	case vault.JobVerify:
		rep, err := v.Store().Verify(ctx, readData)
		if err != nil {
			return err
		}
		return reportProblems(jc, rep, "verify")
	case vault.JobRepair:
		rep, err := v.Store().Repair(ctx)
		if err != nil {
			return err
		}
		jc.update(func(j *vault.Job) { j.Detail = fmt.Sprintf("%d shards rebuilt", len(rep.BadShards)) })
		if len(rep.Unrepairable) > 0 {
			return fmt.Errorf("%d segments have more bad shards than parity can rebuild: their chunks are lost (\"rewind verify --read-data\" names the affected data)", len(rep.Unrepairable))
		}
		return nil
	}
	return fmt.Errorf("unknown maintenance job %q", kind)
}

// reportProblems turns a verify report into warnings (repairable) or a
// failure (data lost).
func reportProblems(jc *jobCtx, rep *blockstore.VerifyReport, what string) error {
	for _, p := range rep.BadShards {
		jc.warn(fmt.Sprintf("segment %016x shard %d (%s): %s — \"rewind repair\" rebuilds it", p.Segment, p.Shard, p.Object, p.Reason))
	}
	for _, c := range rep.BadChunks {
		jc.warn(fmt.Sprintf("chunk %s in segment %016x: %s", c.ID, c.Segment, c.Reason))
	}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("%s: %d segments, %d chunks decoded", what, rep.Segments, rep.Chunks)
	})
	if len(rep.Unrepairable) > 0 {
		return fmt.Errorf("%d segments cannot be rebuilt from parity", len(rep.Unrepairable))
	}
	return nil
}

func (d *Daemon) hUsage(r *http.Request) (any, error) {
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, err
	}
	return v.Usage(r.Context())
}
