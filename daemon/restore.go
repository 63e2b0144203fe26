package daemon

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
)

// hRestore queues a restore job: a whole disk, files out of a point, or a
// whole share back to a directory or its original place.
func (d *Daemon) hRestore(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	var req RestoreRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if v.Locked() {
		return nil, lockedError(v.Name())
	}
	if err := checkRestore(it, &req); err != nil {
		return nil, err
	}
	p, err := v.Point(r.Context(), it.Name, pointID(req.Point))
	if err != nil {
		return nil, err
	}
	job := vault.Job{Type: vault.JobRestore, Vault: v.Name(), Item: it.Name, Point: p.ID,
		RequestedBy: principalName(r), Detail: req.Kind + " → " + restoreTarget(it, req)}
	return d.jobs.submit(v, job, "", func(ctx context.Context, jc *jobCtx) error {
		return namePointLoss(d.runRestore(ctx, jc, v, it, p, req), it, p)
	})
}

func pointID(p string) string {
	if p == "" {
		return vault.Latest
	}
	return p
}

func restoreTarget(it vault.Item, req RestoreRequest) string {
	if req.Original {
		return sourceString(it.Source) + " (original)"
	}
	return req.To
}

// checkRestore refuses requests that do not fit the item's kind.
func checkRestore(it vault.Item, req *RestoreRequest) error {
	switch req.Kind {
	case "disk":
		if it.Source.Kind != vault.KindDisk {
			return Errf(CodeInvalid, "%s is a share: use \"rewind restore share\" or \"restore files\"", it.Name)
		}
	case "share":
		if it.Source.Kind != vault.KindShare {
			return Errf(CodeInvalid, "%s is a disk: use \"rewind restore disk\" or \"restore files\"", it.Name)
		}
		if req.Original {
			req.To = it.Source.Path
		}
	case "files":
		if len(req.Paths) == 0 {
			return Errf(CodeInvalid, "restore files needs at least one --path")
		}
	default:
		return Errf(CodeInvalid, "restore kind %q: want disk, files or share", req.Kind)
	}
	if req.To == "" {
		return Errf(CodeInvalid, "restore of %s needs --to", it.Name)
	}
	if req.Conflict != "" && req.Conflict != "overwrite" && req.Conflict != "skip" && req.Conflict != "rename" {
		return Errf(CodeInvalid, "--conflict %q: want overwrite, skip or rename", req.Conflict)
	}
	return nil
}

func (d *Daemon) runRestore(ctx context.Context, jc *jobCtx, v *vault.Vault, it vault.Item, p vault.Point, req RestoreRequest) error {
	switch {
	case req.Kind == "disk":
		return restoreDisk(ctx, jc, v, it, p, req)
	case it.Source.Kind == vault.KindShare:
		return restoreShare(ctx, jc, v, p, req)
	}
	return restoreDiskFiles(ctx, jc, v, p, req)
}

func restoreDisk(ctx context.Context, jc *jobCtx, v *vault.Vault, it vault.Item, p vault.Point, req RestoreRequest) error {
	res, err := vmdisk.Restore(ctx, v.Store(), p.Root, req.To, vmdisk.RestoreOptions{Format: req.Format, Force: req.Force,
		OriginalSource: it.Source.Spec, Verify: req.Verify, Progress: jc.progress})
	if err != nil {
		return err
	}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("disk → %s: %d bytes written of %d, verified: %v", req.To, res.BytesWritten, res.Size, res.Verified)
	})
	return nil
}

func restoreShare(ctx context.Context, jc *jobCtx, v *vault.Vault, p vault.Point, req RestoreRequest) error {
	if err := os.MkdirAll(req.To, 0o755); err != nil {
		return fmt.Errorf("restore target %s: %w", req.To, err)
	}
	res, err := fileshare.Restore(ctx, v.Store(), p.Root, req.To, fileshare.RestoreOptions{Paths: req.Paths,
		Conflict: fileshare.Conflict(req.Conflict), Verify: req.Verify,
		Progress: func(files, bytes int64) { jc.progress(bytes, p.SourceBytes) }})
	if err != nil {
		return err
	}
	jc.warn(res.Warnings...)
	for _, m := range res.Mismatches {
		jc.warn("verify: " + m + " differs from the point")
	}
	if req.Conflict == "" && len(res.Conflicts) > 0 {
		return fmt.Errorf("%d entries already exist under %s (first: %s): pass --conflict overwrite, skip or rename",
			len(res.Conflicts), req.To, res.Conflicts[0])
	}
	if len(res.Mismatches) > 0 {
		return fmt.Errorf("verify found %d restored files that differ from the point", len(res.Mismatches))
	}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("share → %s: %d entries, %d bytes; conflicts: %s", req.To, res.Files, res.Bytes, strings.Join(res.Conflicts, ", "))
	})
	return nil
}

// namePointLoss prefixes an error that means lost or corrupt backup data
// with the item and point, so the failed job names segment, chunk (from
// blockstore), path (from the restorer), item and point.
func namePointLoss(err error, it vault.Item, p vault.Point) error {
	if err == nil || !fileshare.IsDataLoss(err) {
		return err
	}
	return fmt.Errorf("item %q point %s: backup data cannot be read back (run \"rewind verify --read-data\" and \"rewind repair\"): %w", it.Name, p.ID, err)
}
