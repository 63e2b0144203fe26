package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/rewind-backup/rewind/fsmount"
	"github.com/rewind-backup/rewind/pathsafe"
	"github.com/rewind-backup/rewind/vault"
)

// mountManager owns the daemon's FUSE mounts: each expires (12 hours unless
// asked otherwise) and all are unmounted when the daemon stops.
type mountManager struct {
	d      *Daemon
	mu     sync.Mutex
	mounts map[string]*mountEntry
}

type mountEntry struct {
	info MountInfo
	m    *fsmount.Mounted
}

func newMountManager(d *Daemon) *mountManager {
	return &mountManager{d: d, mounts: map[string]*mountEntry{}}
}

// mount serves req's points at req.Mountpoint.
func (mm *mountManager) mount(ctx context.Context, v *vault.Vault, req MountRequest) (MountInfo, error) {
	expire, err := mm.mountExpire(req.Expire)
	if err != nil {
		return MountInfo{}, err
	}
	if !filepath.IsAbs(req.Mountpoint) {
		return MountInfo{}, targetError("mountpoint", req.Mountpoint, pathsafe.ErrRelative)
	}
	if e := mm.find(req.Mountpoint); e != nil {
		return MountInfo{}, Errf(CodeConflict, "%s is already a rewind mount: \"rewind umount %s\" first", e.info.Mountpoint, e.info.Mountpoint)
	}
	mp, err := mm.checkMountpoint(ctx, req.Mountpoint)
	if err != nil {
		return MountInfo{}, err
	}
	if v.Locked() {
		return MountInfo{}, lockedError(v.Name())
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if _, ok := mm.mounts[mp]; ok {
		return MountInfo{}, Errf(CodeConflict, "%s is already a rewind mount: \"rewind umount %s\" first", mp, mp)
	}
	m, err := fsmount.Mount(ctx, mp, catalogView{v}, v.Store(), fsmount.Options{
		AllowOther: req.AllowOther, Item: req.Item, Point: req.Point, Logger: mm.d.log.With("mount", mp)})
	if err != nil {
		return MountInfo{}, fmt.Errorf("mount %s: %w", mp, err)
	}
	now := mm.d.now()
	info := MountInfo{Mountpoint: mp, Vault: v.Name(), Item: req.Item, Point: req.Point, Created: now, Expires: now.Add(expire),
		Owner: ownerName(ctx)}
	mm.mounts[mp] = &mountEntry{info: info, m: m}
	mm.d.log.Info("mounted", "mountpoint", mp, "vault", v.Name(), "item", req.Item, "expires", info.Expires, "by", info.Owner)
	return info, nil
}

// find returns the mount at mp (as given, or resolved), nil when none.
func (mm *mountManager) find(mp string) *mountEntry {
	if e := mm.entry(filepath.Clean(mp)); e != nil {
		return e
	}
	tg, err := pathsafe.Resolve(mp, pathsafe.Options{AllowMissing: true}) // outside the lock: it does I/O
	if err != nil {
		return nil
	}
	defer tg.Close()
	return mm.entry(tg.Path)
}

func (mm *mountManager) entry(mp string) *mountEntry {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.mounts[mp]
}

// unmountAs unmounts mp for the caller: its own mounts, or any for an admin.
func (mm *mountManager) unmountAs(ctx context.Context, mp string) error {
	if !filepath.IsAbs(mp) {
		return targetError("path", mp, pathsafe.ErrRelative)
	}
	e := mm.find(mp)
	if e == nil {
		return Errf(CodeNotFound, "%s is not a rewind mount: \"rewind mounts\" lists them", mp)
	}
	if err := mountOwnerCheck(ctx, e.info); err != nil {
		return err
	}
	return mm.unmount(e.info.Mountpoint)
}

func (mm *mountManager) unmount(mp string) error {
	mp = filepath.Clean(mp)
	mm.mu.Lock()
	e, ok := mm.mounts[mp]
	delete(mm.mounts, mp)
	mm.mu.Unlock()
	if !ok {
		return Errf(CodeNotFound, "%s is not a rewind mount: \"rewind mounts\" lists them", mp)
	}
	if err := e.m.Unmount(); err != nil {
		mm.mu.Lock()
		mm.mounts[mp] = e // still mounted: keep it listed (and owned)
		mm.mu.Unlock()
		return fmt.Errorf("unmount %s: %w", mp, err)
	}
	mm.d.log.Info("unmounted", "mountpoint", mp)
	return nil
}

func (mm *mountManager) list() []MountInfo {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	out := make([]MountInfo, 0, len(mm.mounts))
	for _, e := range mm.mounts {
		out = append(out, e.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Mountpoint < out[j].Mountpoint })
	return out
}

// expireLoop unmounts mounts whose time is up.
func (mm *mountManager) expireLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, info := range mm.list() {
			if mm.d.now().After(info.Expires) {
				if err := mm.unmount(info.Mountpoint); err != nil {
					mm.d.log.Warn("expired mount", "mountpoint", info.Mountpoint, "err", err)
				}
			}
		}
	}
}

func (mm *mountManager) unmountAll() {
	for _, info := range mm.list() {
		if err := mm.unmount(info.Mountpoint); err != nil {
			mm.d.log.Warn("unmount at stop", "mountpoint", info.Mountpoint, "err", err)
		}
	}
}

// catalogView shows a vault's items and points to fsmount.
type catalogView struct{ v *vault.Vault }

func (c catalogView) Items(ctx context.Context) ([]fsmount.ItemInfo, error) {
	items, err := c.v.Items(ctx)
	if err != nil {
		return nil, err
	}
	var out []fsmount.ItemInfo
	for _, it := range items {
		if it.State.Live() {
			out = append(out, fsmount.ItemInfo{Name: it.Name})
		}
	}
	return out, nil
}

func (c catalogView) Points(ctx context.Context, item string) ([]fsmount.PointInfo, error) {
	it, err := c.v.Item(ctx, item)
	if err != nil {
		return nil, err
	}
	pts, err := c.v.Points(ctx, item)
	if err != nil {
		return nil, err
	}
	out := make([]fsmount.PointInfo, len(pts))
	for i, p := range pts {
		out[i] = fsmount.PointInfo{Time: p.Time, Kind: fsmount.Kind(it.Source.Kind), Root: p.Root}
	}
	return out, nil
}
