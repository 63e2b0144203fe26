package daemon

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// restoreDiskFiles copies files or folders out of a volume of a disk point
// into req.To. Each path keeps its place relative to the volume root, as
// share restores do: --path etc/fstab lands at TO/etc/fstab. Every entry
// that would be written is checked first; if any already exists nothing is
// written. Entries come back with their data/hole map, hardlinks, symlinks,
// FIFOs, xattrs and ACLs, times and (kept or dropped, see guestPolicy)
// owners, setuid/setgid bits, capabilities and device nodes. Nothing is
// ever written outside req.To: paths are resolved beneath it without
// following symlinks, and entries are created, never opened through one.
func restoreDiskFiles(ctx context.Context, jc *jobCtx, v *vault.Vault, p vault.Point, req RestoreRequest) error {
	img, err := vmdisk.OpenImage(ctx, v.Store(), p.Root)
	if err != nil {
		return err
	}
	fsys, err := openVolume(ctx, img, img.Size(), req.Volume)
	if err != nil {
		return err
	}
	sel, err := selectPaths(fsys, req.Paths)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(req.To, 0o755); err != nil {
		return fmt.Errorf("restore target %s: %w", req.To, err)
	}
	w, err := newGuestWriter(req.To, fsys, jc, guestPolicy{keep: req.KeepPrivileges, root: os.Geteuid() == 0})
	if err != nil {
		return err
	}
	defer w.close()
	if err := w.refuseConflicts(ctx, sel); err != nil {
		return err
	}
	for _, s := range sel {
		if err := w.restorePath(ctx, s); err != nil {
			return err
		}
	}
	w.reportDropped()
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("files → %s: %d entries, %d bytes", req.To, w.files, w.bytes)
	})
	return nil
}

// openVolume picks the volume named by sel ("1", "vg0-root"), or the only
// readable one when sel is empty.
func openVolume(ctx context.Context, disk io.ReaderAt, size int64, sel string) (guest.FS, error) {
	layout, err := guest.Probe(ctx, disk, size)
	if err != nil {
		return nil, err
	}
	var readable []guest.Volume
	for _, vol := range layout.Volumes {
		if vol.FilesDir == "" {
			if vol.Name == sel {
				return nil, Errf(CodeInvalid, "volume %s holds no readable files: %s", sel, vol.Reason)
			}
			continue
		}
		if vol.Name == sel {
			return guest.OpenFS(ctx, vol.Reader, vol.Size, vol.Type)
		}
		readable = append(readable, vol)
	}
	names := make([]string, len(readable))
	for i, vol := range readable {
		names[i] = vol.Name + " (" + vol.Type + ")"
	}
	switch {
	case sel != "":
		return nil, Errf(CodeNotFound, "volume %q not found; readable volumes: %s", sel, strings.Join(names, ", "))
	case len(readable) == 1:
		return guest.OpenFS(ctx, readable[0].Reader, readable[0].Size, readable[0].Type)
	case len(readable) == 0:
		return nil, Errf(CodeInvalid, "this disk point has no volume whose files can be read")
	}
	return nil, Errf(CodeInvalid, "the disk has several volumes: pass --volume (one of %s)", strings.Join(names, ", "))
}

// selected is one requested path: slash-separated, relative to the volume
// root ("." for the root itself).
type selected struct {
	rel string
	e   guest.Entry
}

// selectPaths resolves the requested paths in the volume, sorted, with any
// path inside another requested one left out (it is restored with it).
func selectPaths(fsys guest.FS, paths []string) ([]selected, error) {
	rels := make([]string, 0, len(paths))
	for _, p := range paths {
		rel, err := cleanRel(p)
		if err != nil {
			return nil, err
		}
		if rel == "" {
			rel = "."
		}
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	var out []selected
	for _, rel := range rels {
		if coveredBy(rel, out) {
			continue
		}
		e, err := fsys.Stat(rel)
		if err != nil {
			return nil, Errf(CodeNotFound, "path %q is not in this volume: %v", rel, err)
		}
		out = append(out, selected{rel: rel, e: e})
	}
	return out, nil
}

func coveredBy(rel string, sel []selected) bool {
	for _, s := range sel {
		if within(rel, s.rel) {
			return true
		}
	}
	return false
}

// within reports whether rel is dir or lies beneath it.
func within(rel, dir string) bool {
	return dir == "." || rel == dir || strings.HasPrefix(rel, dir+"/")
}

// cleanRel makes a point path relative and refuses one that climbs out.
func cleanRel(p string) (string, error) {
	c := path.Clean("/" + p)
	if strings.Contains(p, "\x00") {
		return "", Errf(CodeInvalid, "path %q holds a NUL byte", p)
	}
	return strings.TrimPrefix(c, "/"), nil
}
