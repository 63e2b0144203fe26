package fileshare

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// dir restores the entries of dir into dirfd (-1 in a dry run when the
// directory does not exist yet). rel is the path in the source, out the path
// restored at (they differ under ConflictRename).
func (rs *restorer) dir(ctx context.Context, dirfd int, dir *Entry, rel, out string, depth int) error {
	if depth > maxDepth {
		return rs.soft(ctx, errDepth(rel))
	}
	var stop error // an error of our own, returned unchanged through ReadDir
	err := rs.src.ReadDir(ctx, dir, func(n *Entry) error {
		if err := ctx.Err(); err != nil {
			stop = err
			return err
		}
		stop = rs.entry(ctx, dirfd, n, rel, out, depth)
		return stop
	})
	if stop != nil {
		return stop
	}
	if err != nil {
		return rs.soft(ctx, fmt.Errorf("%s: directory contents not all restored: %w", showPath(rel), err))
	}
	return nil
}

// soft turns a per-entry failure into a warning unless the restore was
// cancelled or the point's data cannot be read (lost or corrupt chunks, a
// lost directory object): loss is a failure, never a warning.
func (rs *restorer) soft(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if IsDataLoss(err) {
		return err
	}
	rs.warn("%v", err)
	return nil
}

func (rs *restorer) entry(ctx context.Context, dirfd int, n *Entry, prel, pout string, depth int) error {
	rel := joinPath(prel, n.Name)
	if !validName(n.Name) { // the decoder refuses these already; never trust one layer
		rs.warn("%s: not a valid file name, skipped", showPath(rel))
		return nil
	}
	full, through := true, false
	if rs.sel != nil {
		full, through = rs.selection(strings.Split(rel, "/"))
	}
	if !full && (!through || n.Type != TypeDir) {
		return nil
	}
	name, ok := rs.place(dirfd, n, rel)
	if !ok {
		return nil
	}
	if rs.dryRun && n.Type != TypeDir {
		return nil
	}
	out := joinPath(pout, name)
	switch n.Type {
	case TypeDir:
		return rs.mkdir(ctx, dirfd, name, n, rel, out, full, depth)
	case TypeFile:
		return rs.soft(ctx, rs.file(ctx, dirfd, name, n, rel, out))
	case TypeSymlink:
		return rs.soft(ctx, rs.symlink(dirfd, name, n, rel, out))
	default:
		return rs.soft(ctx, rs.special(dirfd, name, n, rel, out))
	}
}

// place decides the name n is restored under, handling an existing entry
// per the conflict mode; false means leave it.
func (rs *restorer) place(dirfd int, n *Entry, rel string) (string, bool) {
	if dirfd < 0 {
		return n.Name, true
	}
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, n.Name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return n.Name, true
	}
	if err != nil {
		rs.warn("%s: cannot inspect the existing entry, skipped: %v", showPath(rel), err)
		return "", false
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if isDir && n.Type == TypeDir {
		return n.Name, true // merge into it
	}
	if len(rs.res.Conflicts) < maxWarnings {
		rs.res.Conflicts = append(rs.res.Conflicts, showPath(rel))
	}
	switch {
	case rs.dryRun || rs.opts.Conflict == ConflictSkip:
		return "", false
	case rs.opts.Conflict == ConflictRename:
		return rs.freeName(dirfd, n.Name, rel)
	}
	return rs.remove(dirfd, n.Name, rel, isDir)
}

func (rs *restorer) remove(dirfd int, name, rel string, isDir bool) (string, bool) {
	flags := 0
	if isDir {
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(dirfd, name, flags); err != nil {
		rs.warn("%s: cannot replace the existing entry, skipped: %v", showPath(rel), err)
		return "", false
	}
	return name, true
}

// freeName finds NAME.restored, NAME.restored-2, ... that does not exist.
func (rs *restorer) freeName(dirfd int, name, rel string) (string, bool) {
	for i := 1; i < 1000; i++ {
		cand := name + ".restored"
		if i > 1 {
			cand += fmt.Sprintf("-%d", i)
		}
		if len(cand) > maxNameLen {
			break
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dirfd, cand, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
			return cand, true
		}
	}
	rs.warn("%s: no free name to restore it under, skipped", showPath(rel))
	return "", false
}

func (rs *restorer) mkdir(ctx context.Context, dirfd int, name string, n *Entry, rel, out string, full bool, depth int) error {
	if rs.dryRun {
		return rs.dryDir(ctx, dirfd, name, n, rel, depth)
	}
	created := true
	if err := unix.Mkdirat(dirfd, name, 0o700); errors.Is(err, unix.EEXIST) {
		created = false
	} else if err != nil {
		return rs.soft(ctx, fmt.Errorf("%s: %w", showPath(rel), err))
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return rs.soft(ctx, fmt.Errorf("%s: not a directory we can enter (a symlink?), skipped: %w", showPath(rel), err))
	}
	defer unix.Close(fd)
	if created {
		rs.files.Add(1)
	}
	if err := rs.dir(ctx, fd, n, rel, out, depth+1); err != nil {
		return err
	}
	if created || (full && rs.opts.Conflict == ConflictOverwrite) {
		rs.applyMeta(fdTarget(fd), n, rel)
	}
	return nil
}

// dryDir descends into a directory that exists, looking for conflicts.
func (rs *restorer) dryDir(ctx context.Context, dirfd int, name string, n *Entry, rel string, depth int) error {
	if dirfd < 0 {
		return nil
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // does not exist: nothing below can conflict
	}
	defer unix.Close(fd)
	return rs.dir(ctx, fd, n, rel, rel, depth+1)
}
