package fsmount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/rewind-backup/rewind/pathsafe"
)

// Options for Mount.
type Options struct {
	// AllowOther lets users other than the mounting one in (allow_other).
	// The kernel still checks every recorded mode and owner
	// (default_permissions is always on).
	AllowOther bool
	// Item shows only this item when set.
	Item string
	// Point shows only this point of each item when set: "latest" or an
	// RFC 3339 time.
	Point string
	// Logger receives the cause of every failed operation (once). Default
	// slog.Default().
	Logger *slog.Logger
	// CacheBytes caps the decoded-chunk cache (default DefaultCacheBytes).
	CacheBytes int64
}

// Mounted is a live FUSE mount of recovery points.
type Mounted struct {
	dir    string
	server *fuse.Server
	cancel context.CancelFunc
	cache  *ChunkCache
	log    *slog.Logger
	// dev is the mount's device number, read right after mounting: an
	// unmount first checks the path still leads to it.
	dev  uint64
	once sync.Once
	done atomic.Bool // once ran: later calls return err
	err  error
}

// Mount serves the catalog's recovery points read-only at mountpoint:
// <mountpoint>/<item>/<point-time>/… and <item>/latest. Chunks come from r
// through one bounded cache shared by every open file. The mount lives until
// Unmount (ctx only bounds setting it up and carries values for logging).
func Mount(ctx context.Context, mountpoint string, cat Catalog, r ChunkReader, opts Options) (*Mounted, error) {
	cache := NewChunkCache(r, opts.CacheBytes)
	m, err := mount(ctx, mountpoint, cat, pointOpener(cache, logger(opts)), opts)
	if m != nil {
		m.cache = cache
	}
	return m, err
}

func logger(o Options) *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

// mount is Mount with the way points are opened injected (tests serve
// in-memory trees through it).
func mount(ctx context.Context, dir string, cat Catalog, open opener, opts Options) (*Mounted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log := logger(opts)
	if err := clearStale(dir, log); err != nil {
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st := &mountState{ctx: life, log: log, inos: newInoTable()}
	view, err := newCatalogView(life, cat, opts, open, st.inos, log)
	if err != nil {
		cancel()
		return nil, err
	}
	root := &dirNode{node: node{m: st, n: rootDir{view}}, dir: rootDir{view}}
	fo := fsOptions(opts)
	fo.PanicHandler = func(v any) fuse.Status {
		log.Error("fsmount: panic serving a request", "panic", v, "stack", string(debug.Stack()))
		return fuse.EIO
	}
	fuseFD, err := mountAt(dir, fo.MountOptions)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mount %s: %w (needs root and /dev/fuse; is it already mounted?)", dir, err)
	}
	fo.MountOptions.DirectMount = false // go-fuse serves the descriptor mountAt mounted ("/dev/fd/N")
	server, err := fs.Mount(fmt.Sprintf("/dev/fd/%d", fuseFD), root, fo)
	if err != nil {
		unix.Unmount(dir, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		cancel()
		return nil, fmt.Errorf("mount %s: %w", dir, err)
	}
	primePoll(dir)
	m := &Mounted{dir: dir, server: server, cancel: cancel, log: log}
	var rst unix.Stat_t
	if err := unix.Stat(dir, &rst); err == nil {
		m.dev = rst.Dev
	}
	if err := raiseReadAhead(dir, 1024); err != nil {
		log.Warn("fsmount: read-ahead stays at the kernel default", "mountpoint", dir, "err", err)
	}
	return m, nil
}

func fsOptions(o Options) *fs.Options {
	stable := stableTimeout
	return &fs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther: o.AllowOther,
			FsName:     "rewind",
			Name:       "rewind",
			Options:    []string{"default_permissions", "ro"},
			// the kernel enforces the recorded POSIX ACLs (system.posix_acl_*
			// xattrs); without it, default_permissions checks mode bits alone
			// and a user an ACL entry shuts out reads through "other"
			EnableAcl:            true,
			MaxWrite:             1 << 20,
			MaxReadAhead:         1 << 20,
			EnableSymlinkCaching: true,
			// Replies come from memory: splicing them through a pipe only
			// copies once more (and a 1 MiB read does not fit a pipe).
			DisableSplice: true,
		},
		EntryTimeout:    &stable,
		AttrTimeout:     &stable,
		NegativeTimeout: &stable,
		NullPermissions: true, // a recorded 0000 stays 0000
		RootStableAttr:  &fs.StableAttr{Ino: rootIno},
	}
}

// mountAt resolves dir (pathsafe: only root's symlinks followed), opens
// /dev/fuse and mounts it on the very directory resolved, through its
// descriptor: renaming a directory on the path, or swapping dir for a symlink
// to the daemon's index, between the caller's checks and the mount cannot
// move the mount. It returns the /dev/fuse descriptor to serve.
func mountAt(dir string, o fuse.MountOptions) (int, error) {
	tg, err := pathsafe.Resolve(dir, pathsafe.Options{})
	if err != nil {
		return -1, err
	}
	defer tg.Close()
	if !tg.IsDir() {
		return -1, fmt.Errorf("%s is not a directory", tg.Path)
	}
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/fuse: %w", err)
	}
	data := []string{fmt.Sprintf("fd=%d", fd), "rootmode=40000", fmt.Sprintf("user_id=%d", os.Geteuid()),
		fmt.Sprintf("group_id=%d", os.Getegid()), fmt.Sprintf("max_read=%d", o.MaxWrite), "default_permissions"}
	if o.AllowOther {
		data = append(data, "allow_other")
	}
	err = unix.Mount(o.FsName, fmt.Sprintf("/proc/self/fd/%d", tg.FD), "fuse."+o.Name,
		unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, strings.Join(data, ","))
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// primePoll does what go-fuse does after a mount on a path (its "poll
// hack"): one poll of a synthetic file, so the kernel learns the file
// system answers no POLL requests before any file of it is polled.
func primePoll(dir string) {
	fd, err := unix.Open(dir+"/.go-fuse-epoll-hack", unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	_, _ = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLPRI | unix.POLLOUT}}, 0)
}

// raiseReadAhead sets the mount's backing-device read-ahead (its bdi is
// named after the mount's st_dev) so sequential reads arrive in 1 MiB
// requests.
func raiseReadAhead(dir string, kb int) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return err
	}
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	return os.WriteFile(p, []byte(fmt.Sprint(kb)), 0o644)
}

// Dir returns the mount point.
func (m *Mounted) Dir() string { return m.dir }

// Cache returns the mount's chunk cache (nil for mounts made without one).
func (m *Mounted) Cache() *ChunkCache { return m.cache }

// Unmount detaches the file system. When it is busy, it is detached lazily
// (MNT_DETACH): gone from the namespace now, released when the last open file
// closes. The path is resolved again first (pathsafe: only root's symlinks
// followed) and must still lead to this mount's root; the unmount goes
// through a descriptor of the directory holding it, the last component never
// followed. Someone who renamed a directory on the path and put a symlink in
// its place therefore gets an error, not root unmounting whatever the link
// names (/proc, a shard target). Safe to call more than once.
func (m *Mounted) Unmount() error {
	if m.done.Load() {
		return m.err
	}
	tg, err := pathsafe.Resolve(m.dir, pathsafe.Options{})
	if err != nil {
		return fmt.Errorf("unmount %s: %w: the path no longer leads to the mount; find it in /proc/self/mountinfo and unmount it by hand", m.dir, err)
	}
	defer tg.Close()
	if m.dev == 0 || tg.Stat.Dev != m.dev || tg.Stat.Ino != rootIno {
		return fmt.Errorf("unmount %s: the path no longer leads to this mount (a directory on it was moved or replaced): "+
			"find the mount in /proc/self/mountinfo and unmount it by hand", m.dir)
	}
	unix.Close(tg.FD) // an open descriptor of the root would keep the mount busy
	tg.FD = -1
	m.once.Do(func() {
		m.err = m.detach(fmt.Sprintf("/proc/self/fd/%d/%s", tg.Dir, tg.Name()))
		m.cancel()
		m.done.Store(true)
	})
	return m.err
}

// detach unmounts at (a path through a held directory descriptor), waiting a
// little for the kernel to release closed files, then lazily; it returns once
// the server has stopped (a lazily detached one stops with its last file).
func (m *Mounted) detach(at string) error {
	var err error
	for try, delay := 0, 5*time.Millisecond; try < 5; try, delay = try+1, delay*2 {
		if err = unix.Unmount(at, unix.UMOUNT_NOFOLLOW); !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(delay)
	}
	if errors.Is(err, unix.EBUSY) {
		// The server ends when the last open file closes, not now.
		m.log.Warn("fsmount: busy mount detached lazily", "mountpoint", m.dir)
		if err = unix.Unmount(at, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); err != nil {
			return fmt.Errorf("unmount %s: %w", m.dir, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("unmount %s: %w", m.dir, err)
	}
	m.server.Wait()
	return nil
}

// Wait blocks until the file system is unmounted (by Unmount or from
// outside, e.g. umount(8)).
func (m *Mounted) Wait() {
	m.server.Wait()
}

// waitMounted is for tests: the kernel has finished INIT when a stat of the
// root answers.
func waitMounted(dir string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var st unix.Stat_t
		err := unix.Stat(dir, &st)
		if err == nil && st.Ino == rootIno {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mount %s not ready: %v", dir, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
