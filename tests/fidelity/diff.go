package fidelity

import (
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

// Options relaxes the comparison where a path cannot carry something.
type Options struct {
	// NoSymlinkAtime skips symlink atimes (reading a link moves it, and
	// backups record mtime for it).
	NoSymlinkAtime bool
	// NoRootMeta skips the root's own metadata (a restore target or copy
	// destination made by the test).
	NoRootMeta bool
	// NoDirAtime skips directory atimes (listing a directory moves them).
	NoDirAtime bool
	// AtimeSeconds compares atimes to the second (rsync -U carries no
	// atime nanoseconds).
	AtimeSeconds bool
}

// Diff lists every difference between want and got, one line each, in
// path order: "path: what: want … got …".
func Diff(want, got Tree, o Options) []string {
	var out []string
	for _, p := range paths(want, got) {
		w, g := want[p], got[p]
		switch {
		case g == nil:
			out = append(out, fmt.Sprintf("%s: missing", p))
		case w == nil:
			out = append(out, fmt.Sprintf("%s: not in the source", p))
		case p == "." && o.NoRootMeta:
		default:
			out = append(out, diffState(p, w, g, o)...)
		}
	}
	return out
}

func paths(a, b Tree) []string {
	var ps []string
	for p := range a {
		ps = append(ps, p)
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			ps = append(ps, p)
		}
	}
	sort.Strings(ps)
	return ps
}

func diffState(p string, w, g *State, o Options) []string {
	var out []string
	add := func(what string, a, b any) {
		out = append(out, fmt.Sprintf("%s: %s: want %v got %v", p, what, a, b))
	}
	typ := w.Mode & unix.S_IFMT
	isDir, isLink := typ == unix.S_IFDIR, typ == unix.S_IFLNK
	if w.Mode != g.Mode {
		add("mode", fmt.Sprintf("%07o", w.Mode), fmt.Sprintf("%07o", g.Mode))
	}
	if w.Uid != g.Uid || w.Gid != g.Gid {
		add("owner", fmt.Sprintf("%d:%d", w.Uid, w.Gid), fmt.Sprintf("%d:%d", g.Uid, g.Gid))
	}
	if w.Rdev != g.Rdev {
		add("rdev", fmt.Sprintf("%d:%d", unix.Major(w.Rdev), unix.Minor(w.Rdev)), fmt.Sprintf("%d:%d", unix.Major(g.Rdev), unix.Minor(g.Rdev)))
	}
	if !isDir && w.Nlink != g.Nlink {
		add("nlink", w.Nlink, g.Nlink)
	}
	if w.Group != g.Group {
		add("link group", fmt.Sprintf("[%s]", w.Group), fmt.Sprintf("[%s]", g.Group))
	}
	if !isDir && w.Size != g.Size {
		add("size", w.Size, g.Size)
	}
	if w.Mtime != g.Mtime {
		add("mtime", show(w.Mtime), show(g.Mtime))
	}
	skipAtime := (isLink && o.NoSymlinkAtime) || (isDir && o.NoDirAtime)
	wa, ga := w.Atime, g.Atime
	if o.AtimeSeconds {
		wa.Nsec, ga.Nsec = 0, 0
	}
	if !skipAtime && wa != ga {
		add("atime", show(w.Atime), show(g.Atime))
	}
	if w.Target != g.Target {
		add("symlink target", fmt.Sprintf("%q", w.Target), fmt.Sprintf("%q", g.Target))
	}
	out = append(out, diffXattrs(p, w.Xattrs, g.Xattrs)...)
	if w.Hash != g.Hash {
		add("content hash", short(w.Hash), short(g.Hash))
	}
	if fmt.Sprint(w.DataMap) != fmt.Sprint(g.DataMap) {
		add("data map", w.DataMap, g.DataMap)
	}
	return out
}

// diffXattrs reports each xattr missing, extra or different; POSIX ACLs
// are named as ACLs.
func diffXattrs(p string, w, g map[string]string) []string {
	var out []string
	names := map[string]bool{}
	for n := range w {
		names[n] = true
	}
	for n := range g {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		what := "xattr " + n
		if n == "system.posix_acl_access" || n == "system.posix_acl_default" {
			what = "ACL " + n
		}
		a, okA := w[n]
		b, okB := g[n]
		switch {
		case !okB:
			out = append(out, fmt.Sprintf("%s: %s: missing", p, what))
		case !okA:
			out = append(out, fmt.Sprintf("%s: %s: not in the source (%q)", p, what, b))
		case a != b:
			out = append(out, fmt.Sprintf("%s: %s: want %q got %q", p, what, a, b))
		}
	}
	return out
}

func show(t unix.Timespec) string { return fmt.Sprintf("%d.%09d", t.Sec, t.Nsec) }

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Compare scans both trees and diffs them.
func Compare(want, got string, o Options) ([]string, error) {
	w, err := Scan(want)
	if err != nil {
		return nil, err
	}
	g, err := Scan(got)
	if err != nil {
		return nil, err
	}
	return Diff(w, g, o), nil
}
