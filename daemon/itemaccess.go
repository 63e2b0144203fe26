package daemon

import (
	"fmt"
	"path/filepath"
	"strings"
)

// mayAddItem decides what a principal may put in an item (API.md "Access
// model"): admins anything; other roles no hooks, no fsfreeze, no NBD or
// changed-block sources, and only a share directory or disk file under
// source_roots. On success a non-admin's path is replaced by its resolved
// form, so a symlink swapped later cannot redirect the item.
func (d *Daemon) mayAddItem(p *Principal, req *ItemRequest) error {
	if p.Can(RoleAdmin) {
		return nil
	}
	if req.PreFreeze != "" || req.PostThaw != "" {
		return Errf(CodeForbidden, "%s may not set pre_freeze or post_thaw: hooks run as root on this host, so only an admin sets them (leave them out, or ask an admin)", p.Name)
	}
	if req.FSFreeze {
		return Errf(CodeForbidden, "%s may not set fsfreeze: it freezes a whole host file system, so only an admin sets it", p.Name)
	}
	if req.ChangedBlocks != "" {
		return Errf(CodeForbidden, "%s may not set changed_blocks: the daemon reads that file as root, so only an admin sets it", p.Name)
	}
	path, set, err := pathSource(req)
	if err != nil {
		return Errf(CodeForbidden, "%s: %v", p.Name, err)
	}
	resolved, err := d.underSourceRoots(path)
	if err != nil {
		return Errf(CodeForbidden, "%s may not add this item: %v", p.Name, err)
	}
	set(resolved)
	return nil
}

// pathSource is the local path an item request names and a setter that
// puts a new path in its place; NBD and other non-path sources are an error.
func pathSource(req *ItemRequest) (string, func(string), error) {
	if req.Share != "" {
		return req.Share, func(p string) { req.Share = p }, nil
	}
	spec := req.Disk
	if p, ok := strings.CutPrefix(spec, "qcow2:"); ok {
		return p, func(n string) { req.Disk = "qcow2:" + n }, nil
	}
	if spec == "" || strings.Contains(spec, ":") {
		return "", nil, fmt.Errorf("disk source %q is not a local path: NBD, libvirt and other non-path sources are admin-only", spec)
	}
	return spec, func(n string) { req.Disk = n }, nil
}

// underSourceRoots resolves path (absolute, every symlink followed) and
// returns it when it lies under one of the configured source_roots (each
// resolved the same way).
func (d *Daemon) underSourceRoots(path string) (string, error) {
	if len(d.cfg.SourceRoots) == 0 {
		return "", fmt.Errorf("no source_roots are configured, so only admins add items (an admin sets source_roots in the daemon config)")
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("source %q is not an absolute path: give the full path", path)
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", path, err)
	}
	for _, root := range d.cfg.SourceRoots {
		r, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(r, resolved); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return resolved, nil
		}
	}
	return "", fmt.Errorf("source %s (resolved: %s) is outside source_roots %s: add it under one of them, or ask an admin to widen source_roots in the daemon config",
		path, resolved, strings.Join(d.cfg.SourceRoots, ", "))
}
