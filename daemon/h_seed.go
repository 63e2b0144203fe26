package daemon

import (
	"context"
	"net/http"
	"path/filepath"

	"github.com/rewind-backup/rewind/vault"
)

func (d *Daemon) hSeedExport(r *http.Request) (any, error) {
	v, it, err := d.findItem(r)
	if err != nil {
		return nil, err
	}
	var req SeedExportRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if v.Locked() {
		return nil, lockedError(v.Name())
	}
	if !filepath.IsAbs(req.To) {
		return nil, Errf(CodeInvalid, "seed export needs an absolute --to directory")
	}
	p, err := d.seedPoint(r.Context(), v, it.Name, req.Point)
	if err != nil {
		return nil, err
	}
	job := vault.Job{Type: vault.JobSeed, Vault: v.Name(), Item: it.Name, Point: p.ID, RequestedBy: principalName(r), Detail: "export → " + req.To}
	return d.jobs.submit(v, job, "", func(ctx context.Context, jc *jobCtx) error {
		return exportSeed(ctx, jc, v, it, p, req.To)
	})
}

// seedPoint is the named point, or by default the item's first full point.
func (d *Daemon) seedPoint(ctx context.Context, v *vault.Vault, item, id string) (vault.Point, error) {
	if id != "" {
		return v.Point(ctx, item, id)
	}
	pts, err := v.Points(ctx, item)
	if err != nil {
		return vault.Point{}, err
	}
	for _, p := range pts {
		if p.Kind == vault.Full {
			return p, nil
		}
	}
	return vault.Point{}, Errf(CodeNotFound, "item %s has no full recovery point to seed from: back it up first", item)
}

func (d *Daemon) hSeedImport(r *http.Request) (any, error) {
	v, req, err := vaultRequest[SeedImportRequest](d, r)
	if err != nil {
		return nil, err
	}
	if v.Locked() {
		return nil, lockedError(v.Name())
	}
	m, err := readSeedManifest(v, req.Dir)
	if err != nil {
		return nil, err
	}
	name := req.Item
	if name == "" {
		name = m.Item.Name
	}
	job := vault.Job{Type: vault.JobSeed, Vault: v.Name(), Item: name, RequestedBy: principalName(r), Detail: "import ← " + req.Dir}
	return d.jobs.submit(v, job, itemKey(v.Name(), name), func(ctx context.Context, jc *jobCtx) error {
		p, err := importSeed(ctx, jc, v, m, req.Dir, name)
		if err == nil {
			jc.update(func(j *vault.Job) { j.Point = p.ID })
		}
		return err
	})
}
