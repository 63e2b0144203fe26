package daemon

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/pathsafe"
	"github.com/rewind-backup/rewind/vault"
	"github.com/rewind-backup/rewind/vmdisk"
	"github.com/rewind-backup/rewind/vmdisk/guest"
)

// restoreDiskFiles copies files or folders out of a volume of a disk point
// into req.To through fileshare.RestoreFrom, the writer of share restores
// (guestSource adapts the volume). Each path keeps its place relative to
// the volume root: --path etc/fstab lands at TO/etc/fstab. Conflicts are
// found before anything is written (--conflict as for shares). Entries
// come back with their data/hole map, hardlinks, symlinks, FIFOs, exact
// xattrs and ACLs and nanosecond times. Guest content is untrusted: unless
// an admin passed --keep-privileges, setuid/setgid bits, trusted.* and security.* xattrs
// and device nodes are dropped and entries are owned by root, and the job
// warns with a count of each.
func restoreDiskFiles(ctx context.Context, jc *jobCtx, v *vault.Vault, p vault.Point, req RestoreRequest, tg *pathsafe.Target) error {
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
	dir, err := openTargetDir(tg)
	if err != nil {
		return err
	}
	defer dir.Close()
	src := newGuestSource(fsys)
	res, err := fileshare.RestoreFromAt(ctx, src, dir, fileshare.RestoreOptions{Paths: sel,
		Conflict: fileshare.Conflict(req.Conflict), DropPrivileges: !req.KeepPrivileges,
		Progress: func(files, bytes int64) { jc.progress(bytes, 0) }})
	jc.warn(src.warnings()...)
	if res != nil {
		jc.warn(res.Warnings...)
		jc.warn(droppedSummary(res.Warnings)...)
	}
	if err != nil {
		return err
	}
	jc.update(func(j *vault.Job) {
		j.Detail = fmt.Sprintf("files → %s: %d entries, %d bytes; conflicts: %s", req.To, res.Files, res.Bytes,
			strings.Join(res.Conflicts, ", "))
	})
	return nil
}

// droppedKinds are the privileges fileshare.RestoreFrom leaves out under
// DropPrivileges, by a phrase of the warning it gives for each entry.
var droppedKinds = []struct{ phrase, what string }{
	{"setuid/setgid bits", "setuid/setgid bits"},
	{"(security.capability) dropped", "file capabilities (security.capability)"},
	{"privileged xattr", "trusted.* and security.* xattrs"},
	{"device nodes need", "device nodes"},
}

// droppedSummary counts the per-entry drop warnings of each kind: one line
// per kind, so the job says how many of each were left out.
func droppedSummary(warns []string) []string {
	var out []string
	for _, k := range droppedKinds {
		n := 0
		for _, w := range warns {
			if strings.Contains(w, k.phrase) {
				n++
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("dropped %s of %d entries: guest content is untrusted (an admin keeps them with --keep-privileges)", k.what, n))
		}
	}
	return out
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

// selectPaths checks that each requested path is in the volume and returns
// them relative to the volume root ("" for the root itself), sorted, with
// any path inside another requested one left out (it comes with it).
func selectPaths(fsys guest.FS, paths []string) ([]string, error) {
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
	var out []string
	for _, rel := range rels {
		if coveredBy(rel, out) {
			continue
		}
		if _, err := fsys.Stat(rel); err != nil {
			return nil, Errf(CodeNotFound, "path %q is not in this volume: %v", rel, err)
		}
		out = append(out, rel)
	}
	for i, rel := range out {
		if rel == "." {
			out[i] = ""
		}
	}
	return out, nil
}

func coveredBy(rel string, sel []string) bool {
	for _, s := range sel {
		if relWithin(rel, s) {
			return true
		}
	}
	return false
}

// relWithin reports whether rel is dir or lies beneath it.
func relWithin(rel, dir string) bool {
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
