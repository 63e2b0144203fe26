package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
)

// vaultFileName is the plaintext descriptor in every vault directory. It holds
// what is needed to open the store before the catalog can be read: the store
// directory and the shard target specs. It is written last on create (the
// commit point) and replaced atomically.
const (
	vaultFileName   = "vault.json"
	vaultFileFormat = "rewind-vault"
	vaultFileV      = 1
)

// vaultFile is the content of vault.json (also copied to catalog key v/meta).
type vaultFile struct {
	Format  string            `json:"format"`
	V       int               `json:"v"`
	Name    string            `json:"name"`
	Created time.Time         `json:"created"`
	Store   string            `json:"store"`   // store directory, relative to the vault directory
	Targets []string          `json:"targets"` // target specs; relative paths are relative to the vault directory
	Layout  blockstore.Layout `json:"layout"`
}

var errNoVaultFile = errors.New("no vault.json")

func readVaultFile(dir string) (vaultFile, error) {
	var f vaultFile
	b, err := os.ReadFile(filepath.Join(dir, vaultFileName))
	if errors.Is(err, os.ErrNotExist) {
		return f, errNoVaultFile
	}
	if err != nil {
		return f, fmt.Errorf("read %s: %w", vaultFileName, err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("decode %s in %s: %w", vaultFileName, dir, err)
	}
	if f.Format != vaultFileFormat || f.V != vaultFileV {
		return f, fmt.Errorf("%s in %s has format %q version %d, this program reads %q version %d: %w",
			vaultFileName, dir, f.Format, f.V, vaultFileFormat, vaultFileV, blockstore.ErrUnknownFormat)
	}
	return f, nil
}

// writeVaultFile replaces vault.json atomically and durably.
func writeVaultFile(dir string, f vaultFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, vaultFileName), append(b, '\n'), 0o644)
}

// writeFileAtomic writes a temp file, fsyncs it, renames it over path and
// fsyncs the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
