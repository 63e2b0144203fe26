package daemon

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/pathsafe"
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
	if _, err := prepareRestore(r.Context(), v, it, &req); err != nil {
		return nil, err // impossible: refused at once, never queued for approval
	}
	op := restoreCritical(it, req)
	if len(op) > 0 {
		// Refuse a target the requester may not write before asking anyone
		// to approve it.
		tg, err := d.restoreTargetOf(r.Context(), req)
		if err != nil {
			return nil, err
		}
		closeTarget(tg)
	}
	pending := pendingOp{Target: it.Name, Restore: &req, RequesterRoles: principalRoles(r.Context())}
	if err := d.guard(r.Context(), v, op, pending); err != nil {
		return nil, err
	}
	return d.queueRestore(r.Context(), v, it, req, vault.Job{RequestedBy: principalName(r)})
}

// prepareRestore checks req against the vault and item and returns the point
// it restores.
func prepareRestore(ctx context.Context, v *vault.Vault, it vault.Item, req *RestoreRequest) (vault.Point, error) {
	if v.Locked() {
		return vault.Point{}, lockedError(v.Name())
	}
	if err := checkRestore(it, req); err != nil {
		return vault.Point{}, err
	}
	if err := checkKeepPrivileges(ctx, it, *req); err != nil {
		return vault.Point{}, err
	}
	p, err := v.Point(ctx, it.Name, pointID(req.Point))
	if err != nil {
		return p, err
	}
	return p, checkSharePaths(ctx, v, it, p, req.Paths)
}

// queueRestore submits restore req of it as a job; job carries who asked
// (and approved).
func (d *Daemon) queueRestore(ctx context.Context, v *vault.Vault, it vault.Item, req RestoreRequest, job vault.Job) (any, error) {
	p, err := prepareRestore(ctx, v, it, &req)
	if err != nil {
		return nil, err
	}
	tg, err := d.restoreTargetOf(ctx, req)
	if err != nil {
		return nil, err
	}
	if tg != nil {
		req.To = tg.Path
	}
	job.Type, job.Vault, job.Item, job.Point = vault.JobRestore, v.Name(), it.Name, p.ID
	job.Detail = req.Kind + " → " + restoreTarget(it, req)
	drop := dropPrivileges(ctx)
	rec, err := d.jobs.submit(v, job, "", func(ctx context.Context, jc *jobCtx) error {
		defer closeTarget(tg)
		return namePointLoss(d.runRestore(ctx, jc, v, it, p, req, tg, drop), it, p)
	})
	if err != nil {
		closeTarget(tg)
	}
	return rec, err
}

// restoreTargetOf resolves req.To safely (pathsafe): nil for an NBD
// export, which only admins may restore to.
func (d *Daemon) restoreTargetOf(ctx context.Context, req RestoreRequest) (*pathsafe.Target, error) {
	if req.Kind == "disk" && isNBDURL(req.To) {
		if !isAdmin(ctx) {
			return nil, Errf(CodeForbidden, "restore to an NBD export (%s) is for admins only: restore to a file below a restore root", req.To)
		}
		return nil, nil
	}
	return d.resolveRestoreTarget(ctx, req.To, req.Kind != "disk")
}

func isNBDURL(s string) bool {
	return strings.HasPrefix(s, "nbd://") || strings.HasPrefix(s, "nbd+unix://")
}

func closeTarget(tg *pathsafe.Target) {
	if tg != nil {
		tg.Close()
	}
}

// dropPrivileges: only an admin's restore writes setuid/setgid bits, trusted.*
// and security.* xattrs (capabilities), device nodes and recorded owners; anyone else's restore
// leaves them out (with a warning each), so restore rights do not turn
// into root rights through a crafted or foreign backup.
func dropPrivileges(ctx context.Context) bool {
	p := principalFrom(ctx)
	return p == nil || !p.Can(RoleAdmin)
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

// runRestore runs a restore job into tg, the target resolved when the
// request came (nil for an NBD export).
func (d *Daemon) runRestore(ctx context.Context, jc *jobCtx, v *vault.Vault, it vault.Item, p vault.Point, req RestoreRequest, tg *pathsafe.Target, drop bool) error {
	switch {
	case req.Kind == "disk":
		return restoreDisk(ctx, jc, v, it, p, req, tg)
	case it.Source.Kind == vault.KindShare:
		return restoreShare(ctx, jc, v, p, req, tg, drop)
	}
	return restoreDiskFiles(ctx, jc, v, p, req, tg)
}

func restoreDisk(ctx context.Context, jc *jobCtx, v *vault.Vault, it vault.Item, p vault.Point, req RestoreRequest, tg *pathsafe.Target) error {
	opts := vmdisk.RestoreOptions{Format: req.Format, Force: req.Force,
		OriginalSource: it.Source.Spec, Verify: req.Verify, Progress: jc.progress}
	if tg != nil {
		opts.Open = func(flags int, perm uint32) (*os.File, error) { return tg.OpenFile(flags, perm) }
		dir, err := tg.DirFile()
		if err != nil {
			return err
		}
		defer dir.Close()
		opts.Dir = dir
	}
	res, err := vmdisk.Restore(ctx, v.Store(), p.Root, req.To, opts)
	if err != nil {
		return err
	}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("disk → %s: %d bytes written of %d, verified: %v", req.To, res.BytesWritten, res.Size, res.Verified)
	})
	return nil
}

func restoreShare(ctx context.Context, jc *jobCtx, v *vault.Vault, p vault.Point, req RestoreRequest, tg *pathsafe.Target, drop bool) error {
	dir, err := openTargetDir(tg)
	if err != nil {
		return err
	}
	defer dir.Close()
	res, err := fileshare.RestoreAt(ctx, v.Store(), p.Root, dir, fileshare.RestoreOptions{Paths: req.Paths,
		Conflict: fileshare.Conflict(req.Conflict), Verify: req.Verify, DropPrivileges: drop,
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
		if res.Dropped > 0 {
			j.Detail += fmt.Sprintf("; %d privileges left out (not an admin)", res.Dropped)
		}
	})
	return nil
}

// checkKeepPrivileges lets only an admin keep a guest's privileges, and only
// where they can be dropped: files from a disk point.
func checkKeepPrivileges(ctx context.Context, it vault.Item, req RestoreRequest) error {
	if !req.KeepPrivileges {
		return nil
	}
	if req.Kind != "files" || it.Source.Kind != vault.KindDisk {
		return Errf(CodeInvalid, "--keep-privileges applies to \"restore files\" from a disk point only")
	}
	if !isAdmin(ctx) {
		return Errf(CodeForbidden, "--keep-privileges needs the admin role: guest owners, setuid bits, capabilities "+
			"and device nodes are dropped for other callers; restore without the flag")
	}
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
