package daemon

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/pathsafe"
)

// mountExpire reads req's --expire: the configured default when empty,
// never longer than mount_max_expire.
func (mm *mountManager) mountExpire(raw string) (time.Duration, error) {
	if raw == "" {
		return mm.d.cfg.MountExpire.Duration, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, Errf(CodeInvalid, "--expire %q: want a positive duration such as 30m or 12h", raw)
	}
	if bound := mm.d.cfg.MountMaxExpire.Duration; d > bound {
		return 0, Errf(CodeInvalid, "--expire %s is longer than mount_max_expire (%s): ask for at most %s", raw, bound, bound)
	}
	return d, nil
}

// checkMountpoint resolves raw safely (pathsafe) and returns its canonical
// path: an existing empty directory, never in or around the data directory
// or a shard target, below mount_root for a caller that is not an admin.
func (mm *mountManager) checkMountpoint(ctx context.Context, raw string) (string, error) {
	tg, err := pathsafe.Resolve(raw, pathsafe.Options{})
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return "", Errf(CodeInvalid, "mountpoint %s does not exist: create an empty directory first (mkdir -p %s)", raw, raw)
		}
		return "", targetError("mountpoint", raw, err)
	}
	defer tg.Close()
	if !tg.IsDir() {
		return "", Errf(CodeInvalid, "mountpoint %s is not a directory: give an empty directory", tg.Path)
	}
	if !isAdmin(ctx) && !within(tg, []string{mm.d.cfg.MountRoot}) {
		return "", Errf(CodeForbidden, "mountpoint %s is not below mount_root (%s): only admins mount elsewhere",
			tg.Path, mm.d.cfg.MountRoot)
	}
	if p := mm.protectedNear(ctx, tg.Path); p != "" {
		return "", Errf(CodeInvalid, "mountpoint %s would cover %s, which the daemon writes to: choose a directory outside it (e.g. below %s)",
			tg.Path, p, mm.d.cfg.MountRoot)
	}
	if err := mustBeEmpty(tg); err != nil {
		return "", err
	}
	return tg.Path, nil
}

// mustBeEmpty refuses a directory with entries (mounting would hide them).
// A dead mount (ENOTCONN) passes: fsmount clears it if it was rewind's.
func mustBeEmpty(tg *pathsafe.Target) error {
	f, err := tg.OpenDir()
	if errors.Is(err, unix.ENOTCONN) {
		return nil
	}
	if err != nil {
		return Errf(CodeInvalid, "mountpoint %s: %v", tg.Path, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	switch {
	case errors.Is(err, unix.ENOTCONN):
		return nil
	case len(names) > 0:
		return Errf(CodeInvalid, "mountpoint %s is not empty (it holds %s): mounting would hide its files; give an empty directory",
			tg.Path, names[0])
	case err != nil && !errors.Is(err, io.EOF):
		return Errf(CodeInvalid, "mountpoint %s: %v", tg.Path, err)
	}
	return nil
}

// protectedNear returns the directory of the daemon's own (data directory,
// each vault's directory shard targets) that mp lies in or contains, or "".
func (mm *mountManager) protectedNear(ctx context.Context, mp string) string {
	for _, p := range mm.protectedDirs(ctx) {
		if mp == p || strings.HasPrefix(mp, p+"/") || strings.HasPrefix(p, mp+"/") || mp == "/" {
			return p
		}
	}
	return ""
}

// protectedDirs lists the data directory and every vault's directory shard
// targets, canonical (relative targets live in the vault's directory, inside
// the data directory).
func (mm *mountManager) protectedDirs(ctx context.Context) []string {
	dirs := []string{mm.d.cfg.Data}
	for _, vi := range mm.d.host.List(ctx) {
		for _, t := range vi.Layout.Targets {
			if filepath.IsAbs(t) {
				dirs = append(dirs, t)
			}
		}
	}
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, canonical(d))
	}
	return out
}

// canonical resolves d when it exists (root-owned links followed), else cleans it.
func canonical(d string) string {
	tg, err := pathsafe.Resolve(filepath.Clean(d), pathsafe.Options{AllowMissing: true})
	if err != nil {
		return filepath.Clean(d)
	}
	defer tg.Close()
	return tg.Path
}

// ensureMountRoot creates mount_root (root, 0755) so restore-operators have
// a place to mount.
func (d *Daemon) ensureMountRoot() {
	if err := os.MkdirAll(d.cfg.MountRoot, 0o755); err != nil {
		d.log.Warn("mount_root cannot be created: only admins can mount elsewhere", "mount_root", d.cfg.MountRoot, "err", err)
	}
}

// mountOwnerCheck refuses to unmount another principal's mount unless the
// caller is an admin.
func mountOwnerCheck(ctx context.Context, info MountInfo) error {
	if isAdmin(ctx) {
		return nil
	}
	if p := principalFrom(ctx); p != nil && p.Name == info.Owner {
		return nil
	}
	return Errf(CodeForbidden, "%s was mounted by %s: only it or an admin may unmount it", info.Mountpoint, info.Owner)
}

// ownerName is the caller's principal name ("" when unknown).
func ownerName(ctx context.Context) string {
	if p := principalFrom(ctx); p != nil {
		return p.Name
	}
	return ""
}
