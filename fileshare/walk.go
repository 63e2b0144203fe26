package fileshare

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
)

// readDirBatch is how many names one getdents round hands back.
const readDirBatch = 4096

// walkDir records directory f (path is relative to the source root, "" for
// the root) and returns its directory object's id. prev is the same
// directory's object in the previous point (zero: none).
func (b *backup) walkDir(ctx context.Context, f *os.File, path string, prev blockstore.ID) (blockstore.ID, error) {
	names, err := sortedNames(f, b.opts.TempDir)
	if names == nil {
		return blockstore.ID{}, fmt.Errorf("%s: %w", showPath(path), err)
	}
	defer names.close()
	if err != nil {
		b.warn("%s: listing stopped early, later entries not backed up: %v", showPath(path), err)
	}
	if b.opts.testHookDir != nil {
		b.opts.testHookDir(path)
	}
	cur := b.prevCursor(ctx, prev, path)
	db := &dirBuilder{b: b}
	dirfd := int(f.Fd())
	for name, ok := names.next(); ok; name, ok = names.next() {
		if err := ctx.Err(); err != nil {
			return blockstore.ID{}, err
		}
		pe, err := b.entry(ctx, dirfd, joinPath(path, name), name, cur.find(name))
		if err != nil {
			return blockstore.ID{}, err
		}
		if pe != nil {
			if err := db.add(ctx, pe); err != nil {
				return blockstore.ID{}, err
			}
		}
	}
	if names.err != nil {
		return blockstore.ID{}, fmt.Errorf("%s: %w", showPath(path), names.err)
	}
	return db.finish(ctx)
}

func (b *backup) prevCursor(ctx context.Context, prev blockstore.ID, path string) *dirCursor {
	if prev.IsZero() {
		return nil
	}
	c, err := openCursor(ctx, b.r, prev)
	if err != nil {
		b.warn("%s: previous point's directory unreadable, reading its files again: %v", showPath(path), err)
		return nil
	}
	return c
}

// entry examines one directory entry. It returns nil (after a warning) for
// an entry that is skipped, and an error only when the backup must stop.
func (b *backup) entry(ctx context.Context, dirfd int, path, name string, prev *Node) (*pending, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		b.warnEntry(path, err)
		return nil, nil
	}
	typ, ok := typeOf(st.Mode)
	if !ok {
		b.warn("%s: unknown file type %#o, skipped", showPath(path), st.Mode&unix.S_IFMT)
		return nil, nil
	}
	if b.leftOut(dirfd, path, name, typ, &st) {
		b.excluded.Add(1)
		return nil, nil
	}
	n := b.describe(name, &st)
	if n.clamped {
		b.warn("%s: a time stamp lies beyond year 1 to 146,000,000,000: recorded as the nearest end of that range", showPath(path))
	}
	n.Type = typ
	b.entries.Add(1)
	if sameInode(prev, n) { // xattr or target changes move ctime
		n.Xattrs, n.Target = prev.Xattrs, prev.Target
		if typ == TypeSymlink {
			n.Atime = n.Mtime
			return ready(n), nil
		}
	} else {
		xs, err := readXattrs(fdPath(dirfd, name))
		if err != nil {
			b.warn("%s: extended attributes not all recorded: %v", showPath(path), err)
		}
		n.Xattrs = xs
	}
	switch typ {
	case TypeDir:
		return b.dirEntry(ctx, dirfd, path, n, &st, prev)
	case TypeFile:
		return b.fileEntry(ctx, dirfd, path, n, &st, prev)
	case TypeSymlink:
		return b.symlinkEntry(dirfd, path, n)
	case TypeChar, TypeBlock:
		n.Rdev = st.Rdev
		n.Size = 0
	default:
		n.Size = 0
	}
	return ready(n), nil
}

// leftOut applies the exclusions: ExcludePaths by identity, Exclude
// patterns by path, ExcludeIfPresent by a tag file inside a directory.
func (b *backup) leftOut(dirfd int, path, name string, typ Type, st *unix.Stat_t) bool {
	if b.never[[2]uint64{st.Dev, st.Ino}] || b.excl.Excluded(path, typ == TypeDir) {
		return true
	}
	if typ != TypeDir {
		return false
	}
	for _, tag := range b.opts.ExcludeIfPresent {
		var tst unix.Stat_t
		if validName(tag) && unix.Fstatat(dirfd, name+"/"+tag, &tst, unix.AT_SYMLINK_NOFOLLOW) == nil {
			return true
		}
	}
	return false
}

// sameInode: the previous point saw this very inode with this ctime, so
// its xattrs and symlink target cannot have changed.
func sameInode(prev, n *Node) bool {
	return prev != nil && prev.Type == n.Type && prev.ino == n.ino && prev.dev == n.dev && prev.Ctime.Equal(n.Ctime)
}

func (b *backup) warnEntry(path string, err error) {
	if errors.Is(err, unix.ENOENT) {
		b.warn("%s: vanished during the backup, not recorded", showPath(path))
		return
	}
	b.warn("%s: not backed up: %v", showPath(path), err)
}

func (b *backup) symlinkEntry(dirfd int, path string, n *Node) (*pending, error) {
	buf := make([]byte, maxTargetLen+1)
	k, err := unix.Readlinkat(dirfd, n.Name, buf)
	if err != nil || k > maxTargetLen {
		if err == nil {
			err = errors.New("target longer than 4096 bytes")
		}
		b.warnEntry(path, err)
		return nil, nil
	}
	n.Target = string(buf[:k])
	// readlink moves a symlink's atime and there is no O_NOATIME for it:
	// recording it would make every point differ from the last.
	n.Atime = n.Mtime
	return ready(n), nil
}

func (b *backup) dirEntry(ctx context.Context, dirfd int, path string, n *Node, st *unix.Stat_t, prev *Node) (*pending, error) {
	n.Size = 0
	var prevID blockstore.ID
	if prev != nil && prev.Type == TypeDir {
		prevID = prev.subtree
	}
	if strings.Count(path, "/") >= maxDepth {
		b.warn("%s: nested deeper than %d levels, recorded empty", showPath(path), maxDepth)
		return b.emptyDir(ctx, n)
	}
	if b.opts.OneFileSystem && st.Dev != b.dev {
		b.warn("%s: on another file system, recorded empty (OneFileSystem)", showPath(path))
		return b.emptyDir(ctx, n)
	}
	fd, err := openNoatime(dirfd, n.Name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
	if err != nil {
		b.warn("%s: directory unreadable, recorded empty: %v", showPath(path), err)
		return b.emptyDir(ctx, n)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	id, err := b.walkDir(ctx, f, path, prevID)
	if err != nil {
		return nil, err
	}
	n.subtree = id
	return ready(n), nil
}

func (b *backup) emptyDir(ctx context.Context, n *Node) (*pending, error) {
	id, err := b.put(ctx, encodeLeaf(nil))
	n.subtree = id
	return ready(n), err
}

// openNoatime opens with O_NOATIME (so backups do not move atimes) and
// retries without it where the kernel refuses (not the owner, not root).
func openNoatime(dirfd int, name string, flags int) (int, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_NOATIME|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
	}
	return fd, err
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// showPath renders a recorded path for messages (quoted: names may hold
// newlines or invalid UTF-8).
func showPath(p string) string {
	return quote("/" + p)
}
