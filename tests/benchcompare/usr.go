package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// usrStream yields the bytes of real files under /usr, in lexical order,
// skipping files that are already compressed; it wraps around at the end.
// The same machine always yields the same bytes.
type usrStream struct {
	paths []string
	next  int
	cur   *os.File
}

var compressedExt = []string{".gz", ".xz", ".bz2", ".zst", ".lz4", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".woff", ".woff2", ".jar", ".deb"}

// newUsrStream lists enough files to cover want bytes before wrapping.
func newUsrStream(root string, want int64) (*usrStream, error) {
	u := &usrStream{}
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || hasAnySuffix(p, compressedExt) {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() == 0 {
			return nil
		}
		u.paths = append(u.paths, p)
		if total += info.Size(); total >= want {
			return fs.SkipAll
		}
		return nil
	})
	if len(u.paths) == 0 && err == nil {
		err = fs.ErrNotExist
	}
	return u, err
}

func hasAnySuffix(s string, suffixes []string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// Read fills p from the current file, moving on to the next at its end.
func (u *usrStream) Read(p []byte) (int, error) {
	for tries := 0; tries <= len(u.paths); {
		if u.cur == nil {
			f, err := os.Open(u.paths[u.next])
			u.next = (u.next + 1) % len(u.paths)
			if err != nil {
				tries++
				continue
			}
			u.cur = f
		}
		if n, _ := u.cur.Read(p); n > 0 {
			return n, nil
		}
		u.cur.Close()
		u.cur = nil
		tries++ // at its end (or failing); a full lap of files without a byte ends the stream
	}
	return 0, io.ErrUnexpectedEOF
}

func (u *usrStream) Close() {
	if u.cur != nil {
		u.cur.Close()
	}
}
