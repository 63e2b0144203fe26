package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rewind-backup/rewind/pathsafe"
)

// isAdmin reports whether the caller holds the admin role.
func isAdmin(ctx context.Context) bool {
	p := principalFrom(ctx)
	return p != nil && p.Can(RoleAdmin)
}

// targetError turns a pathsafe failure into a 400 naming the request field.
func targetError(field, p string, err error) error {
	if errors.Is(err, pathsafe.ErrRelative) {
		return Errf(CodeInvalid, "%s %q must be an absolute path (the daemon never guesses a working directory; "+
			"the CLI makes a relative path absolute only over the local socket)", field, p)
	}
	return Errf(CodeInvalid, "%s %s: %v", field, p, err)
}

// resolveRestoreTarget resolves a restore target for the caller: a
// directory (dir true: created, 0755, when missing) or a file whose
// directory exists. A caller that is not an admin must land below one of
// restore_roots, judged on the resolved path before and after anything is
// created.
func (d *Daemon) resolveRestoreTarget(ctx context.Context, to string, dir bool) (*pathsafe.Target, error) {
	admin := isAdmin(ctx)
	if !admin && len(d.cfg.RestoreRoots) == 0 {
		return nil, Errf(CodeForbidden, "only admins may restore here: restore_roots is empty in the daemon's config "+
			"(an admin adds directories there for restore-operators)")
	}
	tg, err := pathsafe.Resolve(to, pathsafe.Options{AllowMissing: true})
	if err != nil {
		return nil, targetError("to", to, err)
	}
	if err := d.checkRestoreRoots(ctx, tg, admin); err != nil || !dir {
		if err == nil && !tg.Exists() && len(tg.Missing) > 1 {
			err = Errf(CodeInvalid, "to %s: directory %s does not exist: create it first", to, strings.TrimSuffix(tg.Path, "/"+tg.Name()))
		}
		return closeOnErr(tg, err)
	}
	tg.Close()
	if tg, err = pathsafe.Resolve(to, pathsafe.Options{Create: true}); err != nil {
		return nil, targetError("to", to, err)
	}
	if !tg.IsDir() {
		return closeOnErr(tg, Errf(CodeInvalid, "to %s is not a directory: give a directory to restore into", tg.Path))
	}
	return closeOnErr(tg, d.checkRestoreRoots(ctx, tg, admin))
}

func closeOnErr(tg *pathsafe.Target, err error) (*pathsafe.Target, error) {
	if err != nil {
		tg.Close()
		return nil, err
	}
	return tg, nil
}

func (d *Daemon) checkRestoreRoots(ctx context.Context, tg *pathsafe.Target, admin bool) error {
	for _, p := range d.mounts.protectedDirs(ctx) {
		if tg.Within(p) {
			return Errf(CodeInvalid, "restore target %s lies in %s, which the daemon itself writes (data directory or shard target): restore elsewhere",
				tg.Path, p)
		}
	}
	if admin {
		return nil
	}
	if within(tg, d.cfg.RestoreRoots) {
		return nil
	}
	return Errf(CodeForbidden, "restore target %s is not below a restore root (%s): only admins restore elsewhere",
		tg.Path, strings.Join(d.cfg.RestoreRoots, ", "))
}

// within reports whether tg lies below (or at) one of roots, each resolved
// safely itself; a root that does not exist holds nothing.
func within(tg *pathsafe.Target, roots []string) bool {
	for _, r := range roots {
		rt, err := pathsafe.Resolve(r, pathsafe.Options{})
		if err != nil {
			continue
		}
		ok := rt.IsDir() && tg.Within(rt.Path)
		rt.Close()
		if ok {
			return true
		}
	}
	return false
}

// openTargetDir opens a resolved directory target for a restore job.
func openTargetDir(tg *pathsafe.Target) (*os.File, error) {
	f, err := tg.OpenDir()
	if err != nil {
		return nil, fmt.Errorf("restore target: %w", err)
	}
	return f, nil
}
