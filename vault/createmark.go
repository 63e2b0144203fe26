package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// createMarkerName is the explicit "create in progress" marker. Create writes
// it into a fresh staging directory which is then renamed to <vaults>/<name>,
// so a vault directory never exists without either the marker or vault.json
// (unless something outside rewind removed them). It is removed after
// vault.json, the commit point.
const (
	createMarkerName   = "create-in-progress"
	createMarkerFormat = "rewind-create-in-progress"
	createStagingPfx   = ".create-" // staging directories under <vaults>/ (not valid vault names)
)

// createMarker lists what Create will write, so recovery removes only that.
type createMarker struct {
	Format  string    `json:"format"`
	V       int       `json:"v"`
	Name    string    `json:"name"`
	Started time.Time `json:"started"`
	Store   string    `json:"store"`             // store directory (relative)
	Writes  []string  `json:"writes"`            // every entry of the vault directory create makes
	Targets []string  `json:"targets,omitempty"` // user targets that receive keys/master
}

var errNoCreateMarker = errors.New("no " + createMarkerName)

func newCreateMarker(f vaultFile, now time.Time) createMarker {
	m := createMarker{Format: createMarkerFormat, V: 1, Name: f.Name, Started: now, Store: f.Store,
		Writes: []string{f.Store, vaultFileName + ".tmp", vaultFileName}}
	for _, t := range f.Targets {
		if filepath.IsAbs(t) || isURL(t) {
			m.Targets = append(m.Targets, t)
		} else if top := strings.SplitN(t, string(filepath.Separator), 2)[0]; !slices.Contains(m.Writes, top) {
			m.Writes = append(m.Writes, top)
		}
	}
	return m
}

func readCreateMarker(dir string) (createMarker, error) {
	var m createMarker
	b, err := os.ReadFile(filepath.Join(dir, createMarkerName))
	if errors.Is(err, os.ErrNotExist) {
		return m, errNoCreateMarker
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Format != createMarkerFormat || m.V != 1 {
		return m, fmt.Errorf("%s in %s is not a create marker this program wrote", createMarkerName, dir)
	}
	for _, w := range append([]string{m.Store}, m.Writes...) {
		if !plainEntry(w) {
			return m, fmt.Errorf("%s in %s names %q, not an entry of that directory: it is not a create marker this program wrote", createMarkerName, dir, w)
		}
	}
	return m, nil
}

// plainEntry reports whether name is one entry of a directory: not empty,
// ".", "..", nor holding a separator (a marker must never reach outside).
func plainEntry(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsRune(name, filepath.Separator) &&
		name != createMarkerName
}

// beginCreate makes dir holding only the marker: the marker is written into
// a staging directory that is then renamed to dir (which must not exist).
func (h *Host) beginCreate(dir string, m createMarker) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	stage, err := os.MkdirTemp(h.dir, createStagingPfx+m.Name+"-")
	if err != nil {
		return err
	}
	err = writeFileAtomic(filepath.Join(stage, createMarkerName), append(b, '\n'), 0o600)
	if err == nil {
		err = os.Rename(stage, dir)
	}
	if err != nil {
		removeStaging(stage)
		return err
	}
	return syncDir(h.dir)
}

// finishCreate removes the marker once vault.json is durable.
func finishCreate(dir string) error {
	if err := os.Remove(filepath.Join(dir, createMarkerName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return syncDir(dir)
}

// removeStaging removes a staging directory holding only the marker (and its
// temp file); anything else in it keeps it in place.
func removeStaging(stage string) error {
	os.Remove(filepath.Join(stage, createMarkerName))
	os.Remove(filepath.Join(stage, createMarkerName+".tmp"))
	return os.Remove(stage)
}

// undoCreate removes exactly what the marker says create writes, then the
// marker and dir. It refuses (and removes nothing) when dir holds anything
// create does not write: another entry, segment objects in a default shard
// directory, or (unless ownCatalog, i.e. the caller made the store in this
// very call) a store that holds a catalog.
func undoCreate(dir string, m createMarker, ownCatalog bool) error {
	if err := explainCreate(dir, m, ownCatalog); err != nil {
		return err
	}
	var errs []error
	for _, w := range m.Writes {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, w)))
	}
	errs = append(errs, os.Remove(filepath.Join(dir, createMarkerName)), os.Remove(dir))
	return errors.Join(errs...)
}

// explainCreate returns nil when everything in dir is something an
// unfinished create writes, else an error naming the first thing that is not.
func explainCreate(dir string, m createMarker, ownCatalog bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		switch {
		case n == createMarkerName:
		case !slices.Contains(m.Writes, n) || n == ".." || n == "." || strings.ContainsRune(n, '/'):
			return fmt.Errorf("%s is not written by create", filepath.Join(dir, n))
		case n == m.Store:
			if err := storeWithoutCatalog(filepath.Join(dir, n), ownCatalog); err != nil {
				return err
			}
		case n != vaultFileName && n != vaultFileName+".tmp":
			if err := onlyKeyObjects(filepath.Join(dir, n)); err != nil {
				return err
			}
		}
	}
	return nil
}

func storeWithoutCatalog(store string, ownCatalog bool) error {
	if ownCatalog {
		return nil
	}
	has, err := hasCatalog(store)
	if err != nil {
		return fmt.Errorf("cannot tell whether %s holds a catalog: %w", store, err)
	}
	if has {
		return fmt.Errorf("%s holds a catalog", store)
	}
	return nil
}

// onlyKeyObjects accepts a default shard directory tree holding nothing but
// what blockstore.Create puts there: <i>/keys/master and its temp files.
func onlyKeyObjects(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(rel, string(filepath.Separator))
		ok := d.IsDir() && (rel == "." || len(parts) == 1 || len(parts) == 2 && parts[1] == "keys")
		ok = ok || d.Type().IsRegular() && len(parts) == 3 && parts[1] == "keys" &&
			(parts[2] == "master" || strings.HasPrefix(parts[2], ".tmp-"))
		if !ok {
			return fmt.Errorf("%s is not written by create (segments or other data)", p)
		}
		return nil
	})
}
