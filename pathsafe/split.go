package pathsafe

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of one path (Linux's PATH_MAX and NAME_MAX).
const (
	maxPath = 4096
	maxName = 255
	// maxLinks is how many symlinks one resolution may follow (Linux's 40).
	maxLinks = 40
)

// ErrRelative: the path given is not absolute.
var ErrRelative = errors.New("path is not absolute")

// Split checks that p is an absolute path the kernel could resolve (no NUL
// byte, at most 4096 bytes, components of at most 255 bytes) and returns its
// components in order: empty and "." components dropped, ".." kept (it is
// resolved against the real parent during the walk, never lexically). "/"
// gives no components. A relative p is an error wrapping ErrRelative.
func Split(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%q: %w: give an absolute path (starting with /)", p, ErrRelative)
	}
	return splitRest(p)
}

// splitRest splits an absolute path or a symlink's target (which may be relative).
func splitRest(p string) ([]string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return nil, fmt.Errorf("path %q holds a NUL byte", p)
	}
	if len(p) > maxPath {
		return nil, fmt.Errorf("path %.40q…: longer than %d bytes", p, maxPath)
	}
	var out []string
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "" || c == ".":
			continue
		case len(c) > maxName:
			return nil, fmt.Errorf("path %q: component %.40q… is longer than %d bytes", p, c, maxName)
		}
		out = append(out, c)
	}
	return out, nil
}
