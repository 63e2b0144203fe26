package fileshare

import (
	"errors"
	"fmt"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// nodeFromStat fills the metadata every entry type shares.
func nodeFromStat(name string, st *unix.Stat_t) *Node {
	n := &Node{
		Name:  name,
		Mode:  st.Mode & 0o7777,
		Uid:   st.Uid,
		Gid:   st.Gid,
		Size:  st.Size,
		Nlink: uint32(st.Nlink),
		dev:   st.Dev,
		ino:   st.Ino,
	}
	var c1, c2, c3 bool
	n.Mtime, c1 = statTime(st.Mtim)
	n.Ctime, c2 = statTime(st.Ctim)
	n.Atime, c3 = statTime(st.Atim)
	n.clamped = c1 || c2 || c3
	return n
}

// statTime converts a stat time stamp; one beyond what the format records
// (tmpfs holds any 64-bit second: years before 1 or after ~146 billion) is
// set to the nearest time it records, and clamped says so.
func statTime(ts unix.Timespec) (t time.Time, clamped bool) {
	sec, nsec := ts.Unix()
	switch {
	case sec <= minTimeSec: // minTimeSec itself is the zero time.Time
		return time.Unix(minTimeSec+1, 0), true
	case sec > maxTimeSec:
		return time.Unix(maxTimeSec, 0), true
	}
	return time.Unix(sec, nsec), false
}

func typeOf(mode uint32) (Type, bool) {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return TypeFile, true
	case unix.S_IFDIR:
		return TypeDir, true
	case unix.S_IFLNK:
		return TypeSymlink, true
	case unix.S_IFIFO:
		return TypeFifo, true
	case unix.S_IFCHR:
		return TypeChar, true
	case unix.S_IFBLK:
		return TypeBlock, true
	case unix.S_IFSOCK:
		return TypeSocket, true
	}
	return 0, false
}

// fdPath names dirfd's entry name without resolving anything but the
// directory descriptor itself; it keeps paths short at any depth.
func fdPath(dirfd int, name string) string {
	return "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + name
}

// readXattrs lists and reads the extended attributes of path (the final
// component not followed), sorted by name.
func readXattrs(path string) ([]Xattr, error) {
	names, err := listXattrs(path)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	out := make([]Xattr, 0, len(names))
	total := 0
	for _, name := range names {
		v, err := getXattr(path, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed since listed
		}
		if err != nil {
			return out, fmt.Errorf("xattr %q: %w", name, err)
		}
		total += len(name) + len(v)
		if len(name) > maxXattrName || len(v) > maxXattrValue || total > maxXattrTotal || len(out) == maxXattrs {
			return out, fmt.Errorf("xattr %q: beyond the recorded limits (%d bytes per value, %d in all)", name, maxXattrValue, maxXattrTotal)
		}
		out = append(out, Xattr{Name: name, Value: v})
	}
	return out, nil
}

func listXattrs(path string) ([]string, error) {
	for size := 1024; ; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Llistxattr(path, buf)
		if errors.Is(err, unix.ERANGE) && size < 1<<22 {
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list xattrs: %w", err)
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		sort.Strings(names)
		return names, nil
	}
}

func getXattr(path, name string) ([]byte, error) {
	for size := 256; ; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Lgetxattr(path, name, buf)
		if errors.Is(err, unix.ERANGE) && size < 1<<20 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// idNames caches uid/gid → name lookups.
type idNames struct {
	mu     sync.Mutex
	users  map[uint32]string
	groups map[uint32]string
}

func (c *idNames) user(uid uint32) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.users[uid]; ok {
		return s
	}
	s := ""
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		s = u.Username
	}
	if c.users == nil {
		c.users = map[uint32]string{}
	}
	c.users[uid] = s
	return s
}

func (c *idNames) group(gid uint32) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.groups[gid]; ok {
		return s
	}
	s := ""
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		s = g.Name
	}
	if c.groups == nil {
		c.groups = map[uint32]string{}
	}
	c.groups[gid] = s
	return s
}
