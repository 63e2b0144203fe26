package main

import (
	"context"
	"os"
	"path/filepath"
)

const benchPassword = "rewind-benchcompare" // for throwaway repositories only

// restic drives restic with its defaults.
type restic struct {
	e           *env
	repo, cache string
}

func (r *restic) Name() string { return "restic" }

func (r *restic) spec(dir string, args ...string) cmdSpec {
	return cmdSpec{Dir: dir, Env: []string{"RESTIC_PASSWORD=" + benchPassword, "RESTIC_REPOSITORY=" + r.repo,
		"RESTIC_CACHE_DIR=" + r.cache}, Args: append([]string{"restic"}, args...)}
}

func (r *restic) Setup(ctx context.Context, ds *dataset) error {
	r.repo = r.e.repoDir("restic", ds.Kind)
	r.cache = r.repo + ".cache"
	os.RemoveAll(r.cache)
	_, _, err := run(ctx, r.e.timeout(), r.spec("", "init"))
	return err
}

func (r *restic) Backup(ctx context.Context, ds *dataset) (measure, error) {
	m, _, err := run(ctx, r.e.timeout(), r.spec(ds.Base, "backup", "--quiet", ds.Rel))
	return m, err
}

// Restore: restic keeps the last element of the path it was given.
func (r *restic) Restore(ctx context.Context, ds *dataset, to string) (string, measure, error) {
	m, _, err := run(ctx, r.e.timeout(), r.spec("", "restore", "latest", "--target", to))
	return filepath.Join(to, ds.Rel), m, err
}

func (r *restic) Mount(ctx context.Context, ds *dataset, mnt string) (*mounted, error) {
	ready := filepath.Join(mnt, "snapshots", "latest", ds.Rel)
	return serveMount(ctx, r.e, r.spec("", "mount", mnt), mnt, ready)
}

func (r *restic) RepoBytes() int64 { return diskUsage(r.repo) }

func (r *restic) Teardown() { os.RemoveAll(r.repo); os.RemoveAll(r.cache) }

// borg drives borg with lz4 compression (its default) and keyed encryption.
type borg struct {
	e          *env
	repo, base string
	last       string
	n          int
}

func (b *borg) Name() string { return "borg" }

func (b *borg) spec(dir string, args ...string) cmdSpec {
	return cmdSpec{Dir: dir, Env: []string{"BORG_PASSPHRASE=" + benchPassword, "BORG_BASE_DIR=" + b.base,
		"BORG_RELOCATED_REPO_ACCESS_IS_OK=yes", "BORG_DISPLAY_PASSPHRASE=no"}, Args: append([]string{"borg"}, args...)}
}

func (b *borg) Setup(ctx context.Context, ds *dataset) error {
	b.repo = b.e.repoDir("borg", ds.Kind)
	b.base = b.repo + ".home"
	os.RemoveAll(b.base)
	b.n = 0
	_, _, err := run(ctx, b.e.timeout(), b.spec("", "init", "--encryption="+b.e.cfg.BorgEnc, b.repo))
	return err
}

func (b *borg) Backup(ctx context.Context, ds *dataset) (measure, error) {
	b.n++
	name := b.repo + "::" + ds.Kind + "-" + string(rune('0'+b.n))
	m, _, err := run(ctx, b.e.timeout(), b.spec(ds.Base, "create", "--compression", "lz4", name, ds.Rel))
	if err == nil {
		b.last = name
	}
	return m, err
}

func (b *borg) Restore(ctx context.Context, ds *dataset, to string) (string, measure, error) {
	m, _, err := run(ctx, b.e.timeout(), b.spec(to, "extract", b.last))
	return filepath.Join(to, ds.Rel), m, err
}

func (b *borg) Mount(ctx context.Context, ds *dataset, mnt string) (*mounted, error) {
	return serveMount(ctx, b.e, b.spec("", "mount", "-f", b.last, mnt), mnt, filepath.Join(mnt, ds.Rel))
}

func (b *borg) RepoBytes() int64 { return diskUsage(b.repo) }

func (b *borg) Teardown() { os.RemoveAll(b.repo); os.RemoveAll(b.base) }
