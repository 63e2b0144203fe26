package daemon

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/rewind-backup/rewind/vault"
)

// restoreCritical lists the critical operations restore req of it would do:
// writing over the item's own source (a disk restore forced onto its source,
// a share restore overwriting files inside its source tree, --original or
// not).
func restoreCritical(it vault.Item, req RestoreRequest) []critical {
	switch {
	case req.Kind == "disk" && req.Force && sameDisk(req.To, it.Source.Spec):
		return []critical{critRestoreOverSource}
	case it.Source.Kind == vault.KindShare && req.Conflict == "overwrite" && (req.Original || pathWithin(req.To, it.Source.Path)):
		return []critical{critRestoreOverSource}
	}
	return nil
}

// sameDisk reports whether restore target names the disk source spec: the
// same string, or the same file or device.
func sameDisk(target, spec string) bool {
	orig := strings.TrimPrefix(spec, "qcow2:")
	if target == spec || filepath.Clean(target) == filepath.Clean(orig) {
		return true
	}
	a, err1 := os.Stat(target)
	b, err2 := os.Stat(orig)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// pathWithin reports whether dir is root or lies inside it, after resolving
// symlinks as far as the paths exist.
func pathWithin(dir, root string) bool {
	d, r := resolveExisting(dir), resolveExisting(root)
	rel, err := filepath.Rel(r, d)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// resolveExisting resolves the longest existing prefix of p and keeps the
// rest as written.
func resolveExisting(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(real, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest)
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}
