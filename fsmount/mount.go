package fsmount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
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
	once   sync.Once
	err    error
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
	server, err := fs.Mount(dir, root, fo)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mount %s: %w (needs root and /dev/fuse; is it already mounted?)", dir, err)
	}
	m := &Mounted{dir: dir, server: server, cancel: cancel, log: log}
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
			DirectMount:          true,
			DirectMountFlags:     syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV,
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
// closes. Safe to call more than once.
func (m *Mounted) Unmount() error {
	m.once.Do(func() {
		err := m.server.Unmount()
		if err != nil {
			if derr := unix.Unmount(m.dir, unix.MNT_DETACH); derr != nil && !errors.Is(derr, unix.EINVAL) {
				m.err = fmt.Errorf("unmount %s: %w; lazy detach: %w", m.dir, err, derr)
			}
			m.log.Warn("fsmount: busy mount detached lazily", "mountpoint", m.dir, "err", err)
		}
		m.cancel()
	})
	return m.err
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
