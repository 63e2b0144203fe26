package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rewind-backup/rewind/blockstore"
)

// ErrDamaged marks a seed that fails verification (tampered, truncated,
// incomplete); the message names the pack or file.
var ErrDamaged = errors.New("the seed is damaged")

// ErrWrongPassphrase is returned when the seed passphrase does not open it.
var ErrWrongPassphrase = errors.New("the seed passphrase does not open this seed")

// Seed is an opened, verified seed. Store reads its chunks (Rekey them into
// a vault); Close removes the scratch index.
type Seed struct {
	Manifest Manifest
	Store    *blockstore.Store
	scratch  string
}

// Close closes the seed store and removes its scratch directory.
func (s *Seed) Close() error {
	err := s.Store.Close()
	return errors.Join(err, os.RemoveAll(s.scratch))
}

func damaged(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrDamaged, fmt.Sprintf(format, a...))
}

// Open verifies the seed at dir with passphrase: the marker, the sealed
// manifest, then every pack's size and SHA-256 (a tampered or truncated
// pack is ErrDamaged naming it) and that no pack is missing or unlisted;
// only then is the seed's index rebuilt, in a new directory under work.
// Nothing in dir is changed.
func Open(ctx context.Context, dir string, passphrase []byte, work string) (*Seed, error) {
	if b, err := os.ReadFile(filepath.Join(dir, markerName)); err != nil || string(b) != markerText {
		return nil, fmt.Errorf("%s is not a complete seed (no %s marker of format %d): make it with \"rewind seed create\"", dir, markerName, formatVersion)
	}
	data := filepath.Join(dir, dataDir)
	if fi, err := os.Lstat(data); err != nil || !fi.IsDir() {
		return nil, damaged("%s is missing or not a directory", data)
	}
	t, err := blockstore.NewDirTarget(data)
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp(work, "seed-")
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, dir, t, passphrase, scratch)
	if err != nil {
		os.RemoveAll(scratch)
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, dir string, t blockstore.Target, pass []byte, scratch string) (*Seed, error) {
	st, err := blockstore.Attach(ctx, filepath.Join(scratch, "store"), []blockstore.Target{t})
	if err != nil {
		return nil, damaged("%s: %v", dir, err)
	}
	s := &Seed{Store: st, scratch: scratch}
	err = st.Unlock(pass)
	if errors.Is(err, blockstore.ErrWrongPassphrase) {
		err = fmt.Errorf("%w %s: check --seed-passphrase-file (or data/keys/master was tampered with)", ErrWrongPassphrase, dir)
	}
	if err == nil {
		s.Manifest, err = readManifest(st, dir)
	}
	if err == nil {
		err = verifyPacks(ctx, t, s.Manifest.Packs)
	}
	if err == nil {
		err = st.RebuildIndex(ctx)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func readManifest(st *blockstore.Store, dir string) (Manifest, error) {
	var m Manifest
	path := filepath.Join(dir, manifestName)
	f, err := os.Open(path)
	if err != nil {
		return m, damaged("%s: %v", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil || len(b) > maxManifest {
		return m, damaged("%s cannot be read or is too large", path)
	}
	plain, err := st.OpenBlob(b, []byte(manifestAAD))
	if err != nil {
		return m, damaged("%s fails authentication: it was tampered with or truncated", path)
	}
	if err := json.Unmarshal(plain, &m); err != nil || m.Version != formatVersion {
		return m, damaged("%s is not a version-%d manifest", path, formatVersion)
	}
	if (m.Kind != KindDisk && m.Kind != KindShare) || len(m.Packs) > maxPacks {
		return m, damaged("%s: source kind %q or %d packs out of range", path, m.Kind, len(m.Packs))
	}
	return m, nil
}

// verifyPacks checks every listed pack and refuses unlisted objects.
func verifyPacks(ctx context.Context, t blockstore.Target, packs []Pack) error {
	want := map[string]Pack{}
	for _, p := range packs {
		want[p.Name] = p
	}
	seen := 0
	err := t.List(ctx, "", func(name string, size int64) error {
		p, ok := want[name]
		switch {
		case !ok:
			return damaged("pack %s is not in the manifest (added or renamed)", name)
		case size != p.Size:
			return damaged("pack %s is %d bytes, the manifest says %d (truncated or replaced)", name, size, p.Size)
		}
		sum, err := sumObject(ctx, t, name, size)
		if err != nil {
			return damaged("pack %s: %v", name, err)
		}
		if sum != p.SHA256 {
			return damaged("pack %s does not match its checksum in the manifest (tampered with)", name)
		}
		seen++
		return nil
	})
	if err == nil && seen != len(want) {
		err = damaged("%d packs of the manifest are missing", len(want)-seen)
	}
	return err
}
