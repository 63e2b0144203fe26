package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// quarantineDir (under <data>/vaults/) receives vault directories that start-up
// cannot explain; nothing in it is opened or removed by rewind.
const quarantineDir = ".quarantine"

// Quarantined is a directory start-up moved aside instead of removing it.
type Quarantined struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// recoverCreate resolves a vault directory holding the create marker and no
// vault.json. A store whose catalog was committed is rolled forward (vault.json
// is written from the catalog's v/meta): the vault is whole. Otherwise only
// what the marker lists is removed; anything the marker does not explain
// moves the directory to the quarantine. It reports whether dir now holds a
// vault to open.
func (h *Host) recoverCreate(name, dir string, m createMarker) bool {
	log := h.opts.Logger.With("vault", name, "dir", dir)
	if m.Name != name {
		h.quarantine(name, dir, fmt.Errorf("%s names vault %q", createMarkerName, m.Name))
		return false
	}
	store := filepath.Join(dir, m.Store)
	if has, err := hasCatalog(store); err == nil && has {
		if err := rollForward(dir, store, name); err != nil {
			h.quarantine(name, dir, fmt.Errorf("complete the interrupted create: %w", err))
			return false
		}
		log.Warn("completed an interrupted vault create: its catalog was committed, vault.json was written from it")
		return true
	}
	if err := undoCreate(dir, m, false); err != nil {
		h.quarantine(name, dir, fmt.Errorf("interrupted create, but %w", err))
		return false
	}
	log.Warn("removed what an interrupted vault create wrote", "removed", strings.Join(m.Writes, ","))
	for _, t := range m.Targets {
		log.Warn("the interrupted create may have left keys/master on a shard target; remove it there before using the target again",
			"target", t)
	}
	return false
}

func rollForward(dir, store, name string) error {
	f, err := catalogMeta(store)
	if err != nil {
		return err
	}
	if f.Name != name || f.Store != filepath.Base(store) {
		return fmt.Errorf("the catalog describes vault %q in %q", f.Name, f.Store)
	}
	if err := writeVaultFile(dir, f); err != nil {
		return err
	}
	return finishCreate(dir)
}

// hasCatalog reports whether the store's index holds the catalog format key.
func hasCatalog(store string) (bool, error) {
	var found bool
	err := readIndex(store, func(db *pebble.DB) error {
		_, closer, err := db.Get([]byte(keyFormat))
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		if err == nil {
			found = true
			closer.Close()
		}
		return err
	})
	return found, err
}

func catalogMeta(store string) (vaultFile, error) {
	var f vaultFile
	err := readIndex(store, func(db *pebble.DB) error {
		b, closer, err := db.Get([]byte(keyMeta))
		if err != nil {
			return fmt.Errorf("read %s: %w", keyMeta, err)
		}
		defer closer.Close()
		return json.Unmarshal(b, &f)
	})
	return f, err
}

// readIndex opens store/index read-only; a missing index is no catalog.
func readIndex(store string, fn func(*pebble.DB) error) error {
	idx := filepath.Join(store, "index")
	if _, err := os.Stat(idx); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := pebble.Open(idx, &pebble.Options{ReadOnly: true, Logger: quietPebble{}})
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// quietPebble drops Pebble's info lines; as in blockstore, a fatal error ends
// the process with exit 70 (Pebble must not continue after one).
type quietPebble struct{}

func (quietPebble) Infof(string, ...any) {}
func (quietPebble) Errorf(format string, args ...any) {
	slog.Error("pebble: " + fmt.Sprintf(format, args...))
}
func (quietPebble) Fatalf(format string, args ...any) {
	slog.Error("pebble fatal: " + fmt.Sprintf(format, args...))
	os.Exit(70)
}

// quarantine moves dir to <vaults>/.quarantine/<name>-<time> with a .reason
// file next to it, and logs it. If the move fails the directory stays where
// it is, listed as a vault that cannot be opened.
func (h *Host) quarantine(name, dir string, why error) {
	q := filepath.Join(h.dir, quarantineDir)
	dst := filepath.Join(q, name+"-"+h.now().Format("20060102T150405.000Z"))
	err := os.MkdirAll(q, 0o700)
	if err == nil {
		err = os.Rename(dir, dst)
	}
	if err != nil {
		h.opts.Logger.Error("vault directory cannot be explained and could not be moved aside; it is left in place", "vault", name, "why", why, "err", err)
		h.broken[name] = fmt.Errorf("%w; moving it to %s failed: %v", why, q, err)
		return
	}
	_ = os.WriteFile(dst+".reason", []byte(why.Error()+"\n"), 0o600)
	_ = syncDir(q)
	h.opts.Logger.Error("vault directory quarantined (moved aside, nothing removed)", "vault", name, "to", dst, "why", why)
}

// Quarantined lists what start-up moved aside, oldest name first. Each entry
// stays until an operator moves or removes it.
func (h *Host) Quarantined() []Quarantined {
	q := filepath.Join(h.dir, quarantineDir)
	ents, err := os.ReadDir(q)
	if err != nil {
		return nil
	}
	var out []Quarantined
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(q, e.Name())
		why, err := os.ReadFile(p + ".reason")
		if err != nil {
			why = []byte("reason not recorded")
		}
		out = append(out, Quarantined{Path: p, Reason: strings.TrimSpace(string(why))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// cleanStaging removes create staging directories that hold only a marker
// (a create that died before renaming it into place); others are reported.
func (h *Host) cleanStaging(entries []os.DirEntry) {
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), createStagingPfx) {
			continue
		}
		p := filepath.Join(h.dir, e.Name())
		if err := removeStaging(p); err != nil {
			h.opts.Logger.Warn("create staging directory holds more than its marker; left in place", "dir", p, "err", err)
		}
	}
}
