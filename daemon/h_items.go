package daemon

import (
	"path/filepath"

	"github.com/rewind-backup/rewind/pathsafe"

	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vault"
)

// itemView is an item as the API shows it.
type itemView struct {
	vault.Item
	Vault     string     `json:"vault"`
	Kind      string     `json:"kind"`
	SourceStr string     `json:"source_str"`
	LastPoint string     `json:"last_point,omitempty"`
	NextRun   *time.Time `json:"next_run,omitempty"`
}

func viewItem(vaultName string, it vault.Item, last *vault.Point) itemView {
	v := itemView{Item: it, Vault: vaultName, Kind: it.Source.Kind, SourceStr: sourceString(it.Source)}
	if last != nil {
		v.LastPoint = last.ID
	}
	return v
}

func sourceString(s vault.Source) string {
	if s.Kind == vault.KindShare {
		return s.Path
	}
	return s.Spec
}

// hiddenHook replaces a hook command in replies to principals other than
// admins: commands often carry credentials.
const hiddenHook = "(set; visible to admins)"

// redactFor hides the item's hook commands from a principal that is not an
// admin (API.md "Access model").
func (v *itemView) redactFor(p *Principal) {
	if p != nil && p.Can(RoleAdmin) {
		return
	}
	for _, h := range []*string{&v.PreFreeze, &v.PostThaw} {
		if *h != "" {
			*h = hiddenHook
		}
	}
}

func (d *Daemon) hAddItem(r *http.Request) (any, error) {
	v, req, err := vaultRequest[ItemRequest](d, r)
	if err != nil {
		return nil, err
	}
	p := principalFrom(r.Context())
	if err := d.mayAddItem(p, &req); err != nil {
		return nil, err
	}
	src, err := itemSource(req)
	if err != nil {
		return nil, err
	}
	if err := checkDiskSource(req.Disk); err != nil {
		return nil, err
	}
	bw, err := itemBandwidth(v, req)
	if err != nil {
		return nil, err
	}
	it, err := v.AddItem(r.Context(), vault.ItemSpec{Name: req.Name, Source: src, Policy: req.Policy,
		PreFreeze: req.PreFreeze, PostThaw: req.PostThaw, Bandwidth: bw})
	if err != nil {
		return nil, err
	}
	d.sched.wake()
	view := viewItem(v.Name(), it, nil)
	view.redactFor(p)
	return view, nil
}

// itemBandwidth is the item's own bandwidth limit, nil when it follows the vault's.
func itemBandwidth(v *vault.Vault, req ItemRequest) (*vault.Bandwidth, error) {
	if req.WorkHoursRate == "" && req.OffHoursRate == "" && req.WorkHours == "" {
		return nil, nil
	}
	s, err := v.Settings()
	if err != nil {
		return nil, err
	}
	set := VaultSettingsRequest{}
	for _, f := range []struct {
		val string
		dst **string
	}{{req.WorkHoursRate, &set.WorkHoursRate}, {req.OffHoursRate, &set.OffHoursRate}, {req.WorkHours, &set.WorkHours}} {
		if f.val != "" {
			val := f.val
			*f.dst = &val
		}
	}
	b, err := bandwidthFrom(s.Bandwidth, set)
	return &b, err
}

// itemSource checks the source the request names exists and is readable now,
// so a typo is caught at "item add" and not at 22:30.
func itemSource(req ItemRequest) (vault.Source, error) {
	if err := sourcesAbsolute(req); err != nil {
		return vault.Source{}, err
	}
	if req.Share != "" {
		st, err := os.Stat(req.Share)
		if err != nil || !st.IsDir() {
			return vault.Source{}, Errf(CodeInvalid, "share %q is not a directory this host can read: mount the export first, or check the path", req.Share)
		}
		return shareSource(req)
	}
	if req.OneFileSystem != nil || len(req.Exclude) > 0 || len(req.ExcludeIfPresent) > 0 {
		return vault.Source{}, Errf(CodeInvalid, "--one-file-system, --exclude and --exclude-if-present are for shares (--share DIR)")
	}
	if req.FSFreeze {
		return vault.Source{}, Errf(CodeInvalid, "--fsfreeze is for shares; for a VM disk give --pre-freeze (e.g. \"virsh domfsfreeze VM\") and --post-thaw")
	}
	if path, ok := localDiskPath(req.Disk); ok {
		if _, err := os.Stat(path); err != nil {
			return vault.Source{}, Errf(CodeInvalid, "disk %q: %v (give a raw file, a block device, qcow2:PATH, or an nbd:// URL)", req.Disk, err)
		}
	}
	return vault.Source{Kind: vault.KindDisk, Spec: req.Disk, Bitmap: req.Bitmap, ChangedBlocks: req.ChangedBlocks}, nil
}

// sourcesAbsolute refuses a relative share or disk path: the daemon never
// resolves one against its own working directory.
func sourcesAbsolute(req ItemRequest) error {
	if req.Share != "" && !filepath.IsAbs(req.Share) {
		return targetError("share", req.Share, pathsafe.ErrRelative)
	}
	if p, ok := localDiskPath(req.Disk); ok && !filepath.IsAbs(p) {
		return targetError("disk", p, pathsafe.ErrRelative)
	}
	return nil
}

func localDiskPath(spec string) (string, bool) {
	if p, ok := strings.CutPrefix(spec, "qcow2:"); ok {
		return p, true
	}
	if strings.HasPrefix(spec, "nbd") {
		return "", false
	}
	return spec, spec != ""
}

// findItem resolves the item named in the path, in ?vault= when given.
func (d *Daemon) findItem(r *http.Request) (*vault.Vault, vault.Item, error) {
	return d.lookupItem(r.Context(), r.URL.Query().Get("vault"), r.PathValue("item"))
}

// lookupItem finds item name in vaultName, or in whichever vault holds it.
func (d *Daemon) lookupItem(ctx context.Context, vaultName, name string) (*vault.Vault, vault.Item, error) {
	if vaultName != "" {
		v, err := d.scopedVault(ctx, vaultName)
		if err != nil {
			return nil, vault.Item{}, err
		}
		it, err := v.Item(ctx, name)
		return v, it, err
	}
	var found []*vault.Vault
	var item vault.Item
	for _, info := range d.visibleVaults(ctx) {
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		if it, err := v.Item(ctx, name); err == nil {
			found, item = append(found, v), it
		}
	}
	switch len(found) {
	case 0:
		return nil, item, Errf(CodeNotFound, "item %q not found in any vault: \"rewind item list\" shows the items", name)
	case 1:
		return found[0], item, nil
	}
	names := make([]string, len(found))
	for i, v := range found {
		names[i] = v.Name()
	}
	return nil, item, Errf(CodeInvalid, "item %q exists in vaults %s: pass --vault", name, strings.Join(names, ", "))
}

func (d *Daemon) hItems(r *http.Request) (any, error) {
	out := []itemView{}
	for _, info := range d.visibleVaults(r.Context()) {
		if vn := r.URL.Query().Get("vault"); vn != "" && vn != info.Name {
			continue
		}
		v, err := d.host.Vault(info.Name)
		if err != nil {
			continue
		}
		items, err := v.Items(r.Context())
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			view := d.itemWithRuns(r.Context(), v, it)
			view.redactFor(principalFrom(r.Context()))
			out = append(out, view)
		}
	}
	return out, nil
}

func (d *Daemon) itemWithRuns(ctx context.Context, v *vault.Vault, it vault.Item) itemView {
	last, _ := latestPoint(ctx, v, it.Name)
	view := viewItem(v.Name(), it, last)
	if next, ok := d.sched.nextRun(v.Name(), it.Name); ok && scheduled(it) {
		view.NextRun = &next
	}
	return view
}

// scheduled tells whether the scheduler runs it: a stopped or deleted item
// has no next run, even before the scheduler's next tick forgets it.
func scheduled(it vault.Item) bool {
	return it.State == vault.StatePending || it.State == vault.StateProtected
}

func (d *Daemon) hItem(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	view := d.itemWithRuns(r.Context(), v, it)
	view.redactFor(principalFrom(r.Context()))
	return view, nil
}

// pointView is a recovery point as the API shows it: the record's fields
// (vault.Point marshals itself, so it cannot be embedded) plus an
// "expires" column and "bytes_new" (hPoints adds "purge_at" when the item
// is soft-deleted: every point goes then, whatever its expiry).
func pointView(p vault.Point) (map[string]any, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["expires"] = "never"
	if !p.Expiry.IsZero() {
		m["expires"] = p.Expiry.UTC().Format(time.RFC3339)
	}
	m["bytes_new"] = p.BytesStored
	return m, nil
}

func (d *Daemon) hPoints(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	pts, err := v.Points(r.Context(), it.Name)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(pts))
	for i, p := range pts {
		if out[i], err = pointView(p); err != nil {
			return nil, err
		}
		if it.State == vault.StateDeleted {
			out[i]["purge_at"] = it.PurgeAt.UTC().Format(time.RFC3339)
		}
	}
	return out, nil
}

func (d *Daemon) hBackup(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	var req BackupRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.ChangedBlocks != "" && !principalFrom(r.Context()).Can(RoleAdmin) {
		return nil, Errf(CodeForbidden, "changed_blocks names a file the daemon reads as root: only an admin may pass it (leave it out to hash the disk)")
	}
	plan := backupPlan{item: it, onDemand: true, changedBlocks: req.ChangedBlocks,
		retainUntil: d.now().Add(defaultOnDemandRetention)}
	if req.RetainUntil != nil {
		if !req.RetainUntil.After(d.now()) {
			return nil, Errf(CodeInvalid, "--retain-until %s is in the past: give a later date", req.RetainUntil.Format(time.RFC3339))
		}
		plan.retainUntil = *req.RetainUntil
	}
	return d.startBackup(v, plan, principalName(r))
}

// hStop stops protection; with delete data it is a critical operation.
func (d *Daemon) hStop(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	var req StopRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if d.jobs.isBusy(itemKey(v.Name(), it.Name)) {
		return nil, Errf(CodeConflict, "a job of %s is running: wait for it or cancel it (\"rewind jobs --item %s\")", it.Name, it.Name)
	}
	if err := v.CheckStop(r.Context(), it.Name, req.DeleteData); err != nil {
		return nil, err
	}
	if req.DeleteData {
		if err := d.guard(r.Context(), v, []critical{critStopDelete}, pendingOp{Target: it.Name, StopDelete: true}); err != nil {
			return nil, err
		}
	}
	it, err = v.StopProtection(r.Context(), it.Name, req.DeleteData, principalName(r))
	if err != nil {
		return nil, err
	}
	return viewItem(v.Name(), it, nil), nil
}

func (d *Daemon) hResume(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	it, err = v.ResumeProtection(r.Context(), it.Name)
	if err != nil {
		return nil, err
	}
	d.sched.wake()
	return viewItem(v.Name(), it, nil), nil
}

func (d *Daemon) hUndelete(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	it, err = v.Undelete(r.Context(), it.Name, principalName(r))
	if err != nil {
		return nil, err
	}
	return viewItem(v.Name(), it, nil), nil
}

// shareSource checks a share's exclusions: patterns must compile, tag
// names must be plain file names.
func shareSource(req ItemRequest) (vault.Source, error) {
	if _, err := fileshare.CompileExcludes(req.Exclude); err != nil {
		return vault.Source{}, Errf(CodeInvalid, "%v", err)
	}
	for _, tag := range req.ExcludeIfPresent {
		if tag == "" || tag == "." || tag == ".." || strings.ContainsAny(tag, "/\x00") {
			return vault.Source{}, Errf(CodeInvalid, "--exclude-if-present %q: give a file name, not a path", tag)
		}
	}
	one := req.OneFileSystem == nil || *req.OneFileSystem
	return vault.Source{Kind: vault.KindShare, Path: req.Share, FSFreeze: req.FSFreeze, OneFileSystem: one,
		Exclude: req.Exclude, ExcludeIfPresent: req.ExcludeIfPresent}, nil
}
