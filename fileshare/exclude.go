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
type Excludes struct {
	rules []excludeRule
}

type excludeRule struct {
	parts    []string // pattern split at "/"; "**" matches any run of names
	negate   bool
	dirOnly  bool
	anchored bool
}

// CompileExcludes checks and compiles patterns; the error names the bad one.
func CompileExcludes(patterns []string) (*Excludes, error) {
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
	r.parts = strings.Split(p, "/")
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

// matchParts matches pattern components against name components; a
// trailing "**" needs at least one name ("logs/**" is what is inside logs).
func matchParts(pat, names []string) bool {
	if len(pat) == 0 {
		return len(names) == 0
	}
	if pat[0] == "**" {
		if len(pat) == 1 {
			return len(names) > 0
		}
		for i := 0; i <= len(names); i++ {
			if matchParts(pat[1:], names[i:]) {
				return true
			}
		}
		return false
	}
	if len(names) == 0 {
		return false
	}
	ok, _ := path.Match(pat[0], names[0])
	return ok && matchParts(pat[1:], names[1:])
}
