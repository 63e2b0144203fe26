package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/seed"
	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
)

// SeedImportRequest is POST /v1/vaults/{vault}/seed-import: import the seed
// "rewind seed create" wrote at Dir as item Item's first recovery point.
type SeedImportRequest struct {
	Dir  string `json:"dir"`
	Item string `json:"item"`
	// Passphrase is the seed passphrase given to "seed create".
	Passphrase string `json:"seed_passphrase"`
}

// hSeedImport queues the import. It is refused at once when the item
// already has points (a seed only starts an item's history).
func (d *Daemon) hSeedImport(r *http.Request) (any, error) {
	v, req, err := vaultRequest[SeedImportRequest](d, r)
	if err != nil {
		return nil, err
	}
	if v.Locked() {
		return nil, lockedError(v.Name())
	}
	if !filepath.IsAbs(req.Dir) || req.Item == "" {
		return nil, Errf(CodeInvalid, "seed import needs an absolute seed directory and --item NAME (an item with no points, or a new name)")
	}
	if err := refuseSeeded(r.Context(), v, req.Item); err != nil {
		return nil, err
	}
	job := vault.Job{Type: vault.JobSeed, Vault: v.Name(), Item: req.Item, RequestedBy: principalName(r), Detail: "import ← " + req.Dir}
	return d.jobs.submit(v, job, itemKey(v.Name(), req.Item), func(ctx context.Context, jc *jobCtx) error {
		p, err := d.importSeed(ctx, jc, v, req)
		if err == nil {
			jc.update(func(j *vault.Job) { j.Point = p.ID })
		}
		return err
	})
}

// refuseSeeded refuses an item that already has recovery points.
func refuseSeeded(ctx context.Context, v *vault.Vault, item string) error {
	pts, err := v.Points(ctx, item)
	if err != nil || len(pts) == 0 {
		return nil // a missing item is created by the import
	}
	return Errf(CodeConflict, "item %s of vault %s already has %d recovery points: a seed only starts an item's history; import it under a new item name", item, v.Name(), len(pts))
}

// importSeed verifies the whole seed (every pack) before writing anything,
// copies its point into the vault's keys, then creates the item when it is
// missing and records the point with the seed's capture time. A failure
// commits no point and no item.
func (d *Daemon) importSeed(ctx context.Context, jc *jobCtx, v *vault.Vault, req SeedImportRequest) (vault.Point, error) {
	work := filepath.Join(d.cfg.Data, "seed-scratch")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return vault.Point{}, err
	}
	s, err := seed.Open(ctx, req.Dir, []byte(req.Passphrase), work)
	if err != nil {
		return vault.Point{}, seedError(err)
	}
	defer s.Close()
	m := s.Manifest
	warns, err := checkSeedItem(ctx, v, req.Item, m)
	if err != nil {
		return vault.Point{}, err
	}
	jc.warn(warns...)
	root, stored, err := rekeySeed(ctx, s, v.Store(), func(done int64) { jc.progress(min(done, m.SourceBytes), m.SourceBytes) })
	if err != nil {
		return vault.Point{}, fmt.Errorf("seed %s: %w", req.Dir, err)
	}
	jc.progress(m.SourceBytes, m.SourceBytes)
	return addSeedPoint(ctx, jc, v, req.Item, m, root, stored)
}

func seedError(err error) error {
	if errors.Is(err, seed.ErrDamaged) || errors.Is(err, seed.ErrWrongPassphrase) {
		return Errf(CodeInvalid, "%v", err)
	}
	return err
}

// checkSeedItem: an existing item must be of the seed's kind with no
// points, and a disk item's source must match the seed where this host can
// tell (checkSeedDisk).
func checkSeedItem(ctx context.Context, v *vault.Vault, name string, m seed.Manifest) ([]string, error) {
	it, err := v.Item(ctx, name)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if it.Source.Kind != m.Kind {
		return nil, Errf(CodeInvalid, "item %s is a %s item but the seed holds a %s: import it under another name", name, it.Source.Kind, m.Kind)
	}
	if err := refuseSeeded(ctx, v, name); err != nil {
		return nil, err
	}
	if m.Kind != seed.KindDisk {
		return nil, nil // a share's tree is simply the base of the next comparison
	}
	return checkSeedDisk(it, m)
}

// rekeySeed copies the seed's point into st and flushes it; progress gets
// the plaintext bytes copied so far.
func rekeySeed(ctx context.Context, s *seed.Seed, st *blockstore.Store, progress func(int64)) (blockstore.ID, int64, error) {
	bw := st.NewWriter()
	defer bw.Close()
	w := &countingWriter{w: bw, progress: progress}
	rekey := func() (blockstore.ID, int64, error) { return fileshare.Rekey(ctx, s.Store, w, s.Manifest.Root) }
	if s.Manifest.Kind == seed.KindDisk {
		rekey = func() (blockstore.ID, int64, error) { return vmdisk.Rekey(ctx, s.Store, w, s.Manifest.Root) }
	}
	root, stored, err := rekey()
	if err == nil {
		err = bw.Flush(ctx)
	}
	return root, stored, err
}

// countingWriter reports the bytes put through it (the import's progress).
type countingWriter struct {
	w        *blockstore.Writer
	done     int64
	progress func(int64)
}

func (c *countingWriter) Put(ctx context.Context, data []byte) (blockstore.PutResult, error) {
	res, err := c.w.Put(ctx, data)
	if err == nil {
		c.done += int64(len(data))
		c.progress(c.done)
	}
	return res, err
}

// addSeedPoint creates the item from the seed's source when it is missing
// and records the first point (checked again under the item's job lock).
func addSeedPoint(ctx context.Context, jc *jobCtx, v *vault.Vault, name string, m seed.Manifest, root blockstore.ID, stored int64) (vault.Point, error) {
	ctx = context.WithoutCancel(ctx)
	if _, err := v.Item(ctx, name); errors.Is(err, vault.ErrNotFound) {
		src := vault.Source{Kind: m.Kind, Spec: m.Source, Bitmap: m.Bitmap}
		if m.Kind == seed.KindShare {
			src = vault.Source{Kind: m.Kind, Path: m.Source}
		}
		if _, err := v.AddItem(ctx, vault.ItemSpec{Name: name, Source: src}); err != nil {
			return vault.Point{}, err
		}
	}
	if err := refuseSeeded(ctx, v, name); err != nil {
		return vault.Point{}, err
	}
	jc.warn(m.Warnings...)
	p := vault.Point{Time: m.Captured, Item: name, Kind: vault.Full, Consistency: vault.ConsistencyCrash,
		ConsistencyReason: "captured by \"rewind seed create\" with no hooks", SourceBytes: m.SourceBytes,
		BytesRead: m.BytesRead, BytesStored: stored, Root: root, SourceState: m.SourceState,
		Chain: chainToPoint(m.Chain), Warnings: len(m.Warnings), Job: jc.job.ID}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("seed of %s captured %s: %d source bytes, %d stored", m.Source, m.Captured.Format("2006-01-02T15:04:05Z"), m.SourceBytes, stored)
	})
	return v.AddPoint(ctx, p)
}
