package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vmdisk"
)

// CreateOptions say what to capture and where the seed goes.
type CreateOptions struct {
	Dir        string // the seed directory: new or empty
	Disk       string // a disk spec (raw file, block device, qcow2, nbd://…), or
	Share      string // a share's directory; exactly one of Disk and Share
	Bitmap     string // qcow2 dirty bitmap base name for Disk ("" = none)
	Passphrase []byte // the seed passphrase (the importer needs it)
	// Progress, when set, gets source bytes done and the total (shares: the
	// bytes scanned so far as both).
	Progress func(done, total int64)
	// SourceRoots are directories a qcow2's backing files may lie in besides
	// its own directory.
	SourceRoots []string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Create captures the source into a new seed at opts.Dir and returns its
// manifest. The capture streams through the store's bounded writer (memory
// does not grow with the source). A failure leaves no REWIND-SEED marker, so
// the half-made directory is never taken for a seed; Create removes only the
// files it made.
func Create(ctx context.Context, opts CreateOptions) (*Manifest, error) {
	if err := checkCreate(opts); err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "rewind-seed-index-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	m, err := create(ctx, opts, scratch)
	if err != nil {
		cleanup(opts.Dir)
		return nil, err
	}
	return m, nil
}

func checkCreate(opts CreateOptions) error {
	switch {
	case (opts.Disk == "") == (opts.Share == ""):
		return errors.New("seed create: give exactly one of --disk and --share")
	case opts.Bitmap != "" && opts.Disk == "":
		return errors.New("seed create: --bitmap is for --disk sources")
	case len(opts.Passphrase) < 8:
		return errors.New("seed create: the seed passphrase is too short: use at least 8 characters")
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return fmt.Errorf("seed directory %s: %w", opts.Dir, err)
	}
	ents, err := os.ReadDir(opts.Dir)
	if err != nil {
		return fmt.Errorf("seed directory %s: %w", opts.Dir, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("seed directory %s is not empty: give a new or empty directory (nothing in it is overwritten)", opts.Dir)
	}
	return nil
}

// cleanup removes what create made in dir (the directory was empty).
func cleanup(dir string) {
	for _, n := range []string{markerName, manifestName, dataDir} {
		os.RemoveAll(filepath.Join(dir, n))
	}
}

func create(ctx context.Context, opts CreateOptions, scratch string) (*Manifest, error) {
	t, err := blockstore.NewDirTarget(filepath.Join(opts.Dir, dataDir))
	if err != nil {
		return nil, err
	}
	st, err := blockstore.Create(ctx, filepath.Join(scratch, "store"), opts.Passphrase, []blockstore.Target{t},
		blockstore.Options{Layout: blockstore.Layout{DataShards: 1}, SegmentSize: segmentSize})
	if err != nil {
		return nil, fmt.Errorf("seed store: %w", err)
	}
	defer st.Close()
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m := &Manifest{Version: formatVersion, Captured: now().UTC().Truncate(time.Second)}
	commit, err := capture(ctx, st, opts, m)
	if err != nil {
		return nil, err
	}
	if m.Packs, err = listPacks(ctx, t); err != nil {
		return nil, err
	}
	if err := writeManifest(st, opts.Dir, m); err != nil {
		return nil, err
	}
	if err := writeSynced(filepath.Join(opts.Dir, markerName), []byte(markerText)); err != nil {
		return nil, err
	}
	if commit != nil {
		if err := commit(context.WithoutCancel(ctx)); err != nil {
			m.Warnings = append(m.Warnings, "the previous bitmap generation could not be removed: "+err.Error())
		}
	}
	return m, nil
}

// capture runs the backup code into st and fills m; it returns the disk
// capture's after-commit step.
func capture(ctx context.Context, st *blockstore.Store, opts CreateOptions, m *Manifest) (func(context.Context) error, error) {
	w := st.NewWriter()
	defer w.Close()
	var commit func(context.Context) error
	if opts.Disk != "" {
		res, err := vmdisk.Backup(ctx, w, st, opts.Disk, nil, vmdisk.BackupOptions{Bitmap: opts.Bitmap,
			Progress: vmdisk.ProgressFunc(opts.Progress), SourceRoots: opts.SourceRoots})
		if err != nil {
			return nil, err
		}
		m.Kind, m.Source, m.Bitmap, m.SourceState, m.Chain = KindDisk, opts.Disk, opts.Bitmap, res.SourceState, res.Chain
		m.Root, m.SourceBytes, m.BytesRead, m.BytesStored, m.Warnings = res.Root, res.SourceBytes, res.BytesRead, res.BytesNew, res.Warnings
		commit = res.Commit
	} else {
		fo := fileshare.BackupOptions{}
		if opts.Progress != nil {
			fo.Progress = func(_, b int64) { opts.Progress(b, b) }
		}
		res, err := fileshare.Backup(ctx, w, st, opts.Share, blockstore.ID{}, fo)
		if err != nil {
			return nil, err
		}
		m.Kind, m.Source = KindShare, opts.Share
		m.Root, m.SourceBytes, m.BytesRead, m.BytesStored, m.Warnings = res.Root, res.SourceBytes, res.BytesRead, res.BytesNew, res.Warnings
	}
	if err := w.Flush(ctx); err != nil {
		return nil, fmt.Errorf("seed store: %w", err)
	}
	return commit, nil
}

// listPacks sums every object of the target.
func listPacks(ctx context.Context, t blockstore.Target) ([]Pack, error) {
	var packs []Pack
	err := t.List(ctx, "", func(name string, size int64) error {
		sum, err := sumObject(ctx, t, name, size)
		if err != nil {
			return err
		}
		packs = append(packs, Pack{Name: name, Size: size, SHA256: sum})
		return nil
	})
	return packs, err
}

// sumObject hashes an object in 1 MiB reads.
func sumObject(ctx context.Context, t blockstore.Target, name string, size int64) (string, error) {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		n := min(int64(len(buf)), size-off)
		if err := t.ReadAt(ctx, name, buf[:n], off); err != nil {
			return "", fmt.Errorf("seed pack %s: %w", name, err)
		}
		h.Write(buf[:n])
		off += n
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeManifest(st *blockstore.Store, dir string, m *Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	sealed, err := st.SealBlob(b, []byte(manifestAAD))
	if err != nil {
		return err
	}
	return writeSynced(filepath.Join(dir, manifestName), sealed)
}

// writeSynced creates path (never over an existing file), writes b, fsyncs.
func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
