package fileshare

import (
	"fmt"
	"path"
	"strings"
)

// Excludes matches gitignore-style patterns against paths relative to the
// share root, as restic and borg users write them:
//
//	name        a name at any depth ("*.tmp", "node_modules")
//	/a/b, a/b   anchored at the root when the pattern holds a "/" (not only at its end)
//	dir/        directories only
//	**          any number of directories ("**/cache", "a/**/b", "logs/**")
//	!pattern    re-include what an earlier pattern excluded (the last match wins)
//	* ? [a-z]   within one name, as path.Match; "\" escapes
//
// An excluded directory is not descended into, so nothing below it can be
// re-included (as in git).
//
// Written here rather than imported: github.com/sabhiram/go-gitignore has
// had no release since 2021, and go-git's plumbing/format/gitignore brings
// the whole go-git module along.
type Excludes struct {
	rules []excludeRule
}

type excludeRule struct {
	parts    []string // pattern split at "/"; "**" matches any run of names
	negate   bool
	dirOnly  bool
	anchored bool
}

// Bounds on patterns, which come from API callers.
const (
	maxPatternLen = 1024
	maxPatterns   = 1000
)

// CompileExcludes checks and compiles patterns; the error names the bad one.
func CompileExcludes(patterns []string) (*Excludes, error) {
	if len(patterns) > maxPatterns {
		return nil, fmt.Errorf("%d exclude patterns: at most %d", len(patterns), maxPatterns)
	}
	e := &Excludes{}
	for _, p := range patterns {
		r, err := compileRule(p)
		if err != nil {
			return nil, fmt.Errorf("exclude pattern %q: %w", p, err)
		}
		e.rules = append(e.rules, r)
	}
	return e, nil
}

func compileRule(p string) (excludeRule, error) {
	var r excludeRule
	if strings.HasPrefix(p, "!") {
		r.negate, p = true, p[1:]
	}
	if strings.HasSuffix(p, "/") {
		r.dirOnly, p = true, strings.TrimRight(p, "/")
	}
	if strings.Contains(p, "/") {
		r.anchored = true
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return r, fmt.Errorf("empty pattern (give a name, a path or a glob)")
	}
	if len(p) > maxPatternLen {
		return r, fmt.Errorf("longer than %d bytes", maxPatternLen)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "**" && len(r.parts) > 0 && r.parts[len(r.parts)-1] == "**" {
			continue // "**/**" is "**"
		}
		r.parts = append(r.parts, part)
	}
	for _, part := range r.parts {
		if part == "" {
			return r, fmt.Errorf("empty path component")
		}
		if _, err := path.Match(part, ""); err != nil {
			return r, fmt.Errorf("bad glob %q: %w", part, err)
		}
	}
	if !r.anchored {
		r.parts = append([]string{"**"}, r.parts...)
	}
	if n := len(r.parts); n > 1 && r.parts[n-1] == "**" {
		// "logs/**" is what is inside logs: at least one more name
		r.parts = append(r.parts[:n-1], "*", "**")
	}
	return r, nil
}

// Excluded reports whether rel (slash-separated, from the share root, no
// leading "/") is excluded; isDir tells whether it is a directory.
func (e *Excludes) Excluded(rel string, isDir bool) bool {
	if e == nil || len(e.rules) == 0 {
		return false
	}
	names := strings.Split(rel, "/")
	out := false
	for _, r := range e.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if matchParts(r.parts, names) {
			out = !r.negate
		}
	}
	return out
}

// matchParts matches pattern components against name components, "**"
// standing for any run of names, in O(len(pat)·len(names)): the classic
// wildcard scan that backtracks only to the last "**".
func matchParts(pat, names []string) bool {
	pi, ni, star, mark := 0, 0, -1, 0
	for ni < len(names) {
		switch {
		case pi < len(pat) && pat[pi] == "**":
			star, mark = pi, ni
			pi++
		case pi < len(pat) && matchName(pat[pi], names[ni]):
			pi++
			ni++
		case star >= 0:
			pi, mark = star+1, mark+1
			ni = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == "**" {
		pi++
	}
	return pi == len(pat)
}

func matchName(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}
