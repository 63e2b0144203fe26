package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
)

// defaultOnDemandRetention is how long an on-demand point lives when the
// request names no retain-until date.
const defaultOnDemandRetention = 30 * 24 * time.Hour

// freezeTimeout bounds how long a source stays frozen.
const freezeTimeout = 10 * time.Minute

// backupPlan is one backup to run.
type backupPlan struct {
	item          vault.Item
	onDemand      bool
	retainUntil   time.Time
	changedBlocks string
	checkpoints   checkpoints
	sourceRoots   []string // config source_roots: where qcow2 backing files may lie
}

// checkpoints name, for an NBD pull-mode item with a dirty bitmap, the
// checkpoint this backup creates and the one its exported bitmap counts
// from: "rewind-<job id>" of this and of the previous point's backup. The
// pre-freeze hook gets them as REWIND_CHECKPOINT and REWIND_CHECKPOINT_SINCE
// (e.g. for "virsh backup-begin" with a checkpoint of that name and
// <incremental> from the other, exporting the bitmap as --bitmap names it).
type checkpoints struct {
	New, Since string
}

func checkpointsFor(it vault.Item, prev *vault.Point, jobID string) checkpoints {
	if it.Source.Kind != vault.KindDisk || it.Source.Bitmap == "" || !strings.HasPrefix(it.Source.Spec, "nbd") {
		return checkpoints{}
	}
	cp := checkpoints{New: "rewind-" + jobID}
	if prev != nil && prev.Job != "" {
		cp.Since = "rewind-" + prev.Job
	}
	return cp
}

// env is what every hook of the item sees.
func (cp checkpoints) env(v *vault.Vault, it vault.Item) []string {
	return []string{"REWIND_VAULT=" + v.Name(), "REWIND_ITEM=" + it.Name, "REWIND_BITMAP=" + it.Source.Bitmap,
		"REWIND_CHECKPOINT=" + cp.New, "REWIND_CHECKPOINT_SINCE=" + cp.Since}
}

// capture is what either source kind hands back for the point record.
type capture struct {
	root        blockstore.ID
	kind        vault.PointKind
	sourceBytes int64
	bytesRead   int64
	bytesNew    int64
	sourceState string
	chain       []vault.ChainFile
	warnings    []string
	commit      func(context.Context) error
}

// startBackup queues a backup job of the item.
func (d *Daemon) startBackup(v *vault.Vault, plan backupPlan, principal string) (vault.Job, error) {
	if v.Locked() {
		return vault.Job{}, lockedError(v.Name())
	}
	if err := d.checkBackupSpace(v); err != nil {
		return vault.Job{}, err
	}
	job := vault.Job{Type: vault.JobBackup, Vault: v.Name(), Item: plan.item.Name, RequestedBy: principal}
	return d.jobs.submit(v, job, itemKey(v.Name(), plan.item.Name), func(ctx context.Context, jc *jobCtx) error {
		return d.runBackup(ctx, jc, v, plan)
	})
}

func itemKey(vaultName, item string) string { return vaultName + "/" + item }

func (d *Daemon) runBackup(ctx context.Context, jc *jobCtx, v *vault.Vault, plan backupPlan) error {
	it := plan.item
	prev, err := latestPoint(ctx, v, it.Name)
	if err != nil {
		return err
	}
	started := d.now()
	cp := checkpointsFor(it, prev, jc.job.ID)
	fp := freezePlan{PreFreeze: it.PreFreeze, PostThaw: it.PostThaw, Timeout: freezeTimeout, DataDir: d.cfg.Data, Env: cp.env(v, it),
		Log: d.log.With("vault", v.Name(), "item", it.Name)}
	if it.Source.FSFreeze {
		fp.FSPath = it.Source.Path
	}
	fz := freeze(ctx, fp)
	thawed := false
	defer func() { // post-thaw runs even when the capture panics
		if !thawed {
			fz.Thaw()
		}
	}()
	w := v.Store().NewWriter()
	defer w.Close()
	plan.checkpoints = cp
	plan.sourceRoots = d.cfg.SourceRoots
	c, err := d.capture(ctx, jc, v, it, prev, w, plan)
	thawed = true
	jc.warn(fz.Thaw()...)
	jc.update(func(j *vault.Job) { j.Consistency = vault.Consistency(fz.Level) })
	if err != nil {
		return err
	}
	if err := w.Flush(ctx); err != nil {
		return fmt.Errorf("store the backup of %s: %w", it.Name, err)
	}
	p := vault.Point{Time: started, Item: it.Name, Kind: c.kind, Consistency: vault.Consistency(fz.Level),
		ConsistencyReason: fz.Reason, SourceBytes: c.sourceBytes, BytesRead: c.bytesRead, BytesStored: c.bytesNew,
		Root: c.root, SourceState: c.sourceState, Chain: c.chain, Warnings: len(c.warnings) + len(jc.warnings()), Job: jc.job.ID}
	if plan.onDemand {
		p.OnDemand, p.RetainUntil = true, plan.retainUntil
	}
	jc.warn(c.warnings...)
	rec, err := v.AddPoint(context.WithoutCancel(ctx), p)
	if err != nil {
		return fmt.Errorf("record the recovery point of %s: %w", it.Name, err)
	}
	jc.update(func(j *vault.Job) { j.Point = rec.ID })
	if c.commit != nil {
		if err := c.commit(context.WithoutCancel(ctx)); err != nil {
			jc.warn("change tracking could not move on (the next backup compares hashes instead): " + err.Error())
		}
	}
	return nil
}

// latestPoint returns the item's newest point, or nil.
func latestPoint(ctx context.Context, v *vault.Vault, item string) (*vault.Point, error) {
	pts, err := v.Points(ctx, item)
	if err != nil || len(pts) == 0 {
		return nil, err
	}
	p := pts[len(pts)-1]
	return &p, nil
}

func (d *Daemon) capture(ctx context.Context, jc *jobCtx, v *vault.Vault, it vault.Item, prev *vault.Point, w *blockstore.Writer, plan backupPlan) (*capture, error) {
	lim := d.limiter(v, it)
	switch it.Source.Kind {
	case vault.KindDisk:
		return captureDisk(ctx, jc, v.Store(), w, it, prev, plan, lim)
	case vault.KindShare:
		return captureShare(ctx, jc, v.Store(), w, it, prev, lim, d.neverBackedUp(ctx))
	}
	return nil, fmt.Errorf("item %s has unknown source kind %q", it.Name, it.Source.Kind)
}

// neverBackedUp lists what no share backup records: the data directory,
// the shard targets of every vault on this daemon (not only the item's:
// two vaults holding each other's shards would each grow with the other's
// backups) and the daemon's own mounts (decrypted views of vaults, met
// with --one-file-system=false).
func (d *Daemon) neverBackedUp(ctx context.Context) []string {
	never := []string{d.cfg.Data}
	for _, vi := range d.host.List(ctx) {
		never = append(never, vi.Layout.Targets...)
	}
	for _, m := range d.mounts.list() {
		never = append(never, m.Mountpoint)
	}
	return never
}

func captureDisk(ctx context.Context, jc *jobCtx, st *blockstore.Store, w *blockstore.Writer, it vault.Item, prev *vault.Point, plan backupPlan, lim *throttle) (*capture, error) {
	opts := vmdisk.BackupOptions{Bitmap: it.Source.Bitmap, ChangedBlocksFile: it.Source.ChangedBlocks,
		Progress: jc.progress, ReadLimiter: lim, Checkpoint: plan.checkpoints.New, BitmapSince: plan.checkpoints.Since,
		SourceRoots: plan.sourceRoots}
	if plan.changedBlocks != "" {
		opts.ChangedBlocksFile = plan.changedBlocks
	}
	var p *vmdisk.Prev
	if prev != nil {
		p = &vmdisk.Prev{Root: prev.Root, SourceState: prev.SourceState, Chain: chainFromPoint(prev.Chain)}
	}
	if err := checkSourcePath(it.Source.Spec); err != nil {
		return nil, err
	}
	res, err := vmdisk.Backup(ctx, w, st, it.Source.Spec, p, opts)
	if err != nil {
		return nil, err
	}
	kind := vault.Full
	if res.Kind == "incremental" {
		kind = vault.Incremental
	}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("%s backup: read %d bytes of %d, stored %d new", res.Method, res.BytesRead, res.SourceBytes, res.BytesNew)
	})
	warns := res.Warnings
	return &capture{root: res.Root, kind: kind, sourceBytes: res.SourceBytes, bytesRead: res.BytesRead,
		bytesNew: res.BytesNew, sourceState: res.SourceState, chain: chainToPoint(res.Chain), warnings: dedupe(warns), commit: res.Commit}, nil
}

// captureShare backs up a share; never lists the daemon's data directory
// and every vault's shard targets (neverBackedUp), left out wherever they appear
// below the share.
func captureShare(ctx context.Context, jc *jobCtx, st *blockstore.Store, w *blockstore.Writer, it vault.Item, prev *vault.Point, lim *throttle, never []string) (*capture, error) {
	var prevRoot blockstore.ID
	var estimate int64 // the tree's size at the last point: the best guess of the total
	kind := vault.Full
	if prev != nil {
		prevRoot, kind, estimate = prev.Root, vault.Incremental, prev.SourceBytes
	}
	opts := fileshare.BackupOptions{Limiter: lim, Progress: func(files, bytes int64) { jc.progress(bytes, max(estimate, bytes)) },
		OneFileSystem: it.Source.OneFileSystem, Exclude: it.Source.Exclude, ExcludeIfPresent: it.Source.ExcludeIfPresent, ExcludePaths: never}
	if err := checkSourcePath(it.Source.Path); err != nil {
		return nil, err
	}
	res, err := fileshare.Backup(ctx, w, st, it.Source.Path, prevRoot, opts)
	if err != nil {
		return nil, err
	}
	return &capture{root: res.Root, kind: kind, sourceBytes: res.SourceBytes, bytesRead: res.BytesRead,
		bytesNew: res.BytesNew, warnings: res.Warnings}, nil
}

// limiter throttles a job of item: the item's bandwidth override, else the
// vault's, both read again every second so changes reach running jobs.
func (d *Daemon) limiter(v *vault.Vault, it vault.Item) *throttle {
	return newThrottle(func(t time.Time) int64 {
		if cur, err := v.Item(context.Background(), it.Name); err == nil && cur.Bandwidth != nil {
			return cur.Bandwidth.RateAt(t)
		}
		s, err := v.Settings()
		if err != nil {
			return 0
		}
		return s.Bandwidth.RateAt(t)
	}, d.now)
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
