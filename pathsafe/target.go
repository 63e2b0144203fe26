package pathsafe

import (
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Exists reports whether Path exists (FD is open).
func (t *Target) Exists() bool { return t.FD >= 0 }

// IsDir reports whether Path exists and is a directory.
func (t *Target) IsDir() bool { return t.Exists() && t.Stat.Mode&unix.S_IFMT == unix.S_IFDIR }

// Name is Path's last component ("/" for the root).
func (t *Target) Name() string { return path.Base(t.Path) }

// Close releases the descriptors.
func (t *Target) Close() error {
	if t.Dir != t.FD {
		closeFD(t.Dir)
	}
	closeFD(t.FD)
	t.Dir, t.FD = -1, -1
	return nil
}

// Within reports whether Path is dir or lies below it (dir canonical).
func (t *Target) Within(dir string) bool {
	dir = path.Clean(dir)
	return t.Path == dir || dir == "/" || strings.HasPrefix(t.Path, dir+"/")
}

// OpenDir opens the resolved directory for reading (a real descriptor, not
// O_PATH), e.g. as the root of a restore that creates entries below it.
func (t *Target) OpenDir() (*os.File, error) {
	if !t.IsDir() {
		return nil, fmt.Errorf("%s is not an existing directory: %w", t.Path, unix.ENOTDIR)
	}
	fd, err := unix.Openat(t.FD, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Path, err)
	}
	return os.NewFile(uintptr(fd), t.Path), nil
}

// OpenFile opens Path's last component through Dir with flags (O_NOFOLLOW
// and O_CLOEXEC added) and perm for a file it creates. When Path existed at
// Resolve, the file opened must be that same inode, or the open fails (it
// was replaced in between). A Path missing more than its last component
// cannot be opened.
func (t *Target) OpenFile(flags int, perm uint32) (*os.File, error) {
	if !t.Exists() && len(t.Missing) != 1 {
		return nil, fmt.Errorf("%s: its directory %s does not exist: %w", t.Path, path.Dir(t.Path), unix.ENOENT)
	}
	fd, err := unix.Openat2(t.Dir, t.Name(), &unix.OpenHow{Flags: uint64(flags | unix.O_NOFOLLOW | unix.O_CLOEXEC),
		Mode: uint64(perm), Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Path, err)
	}
	f := os.NewFile(uintptr(fd), t.Path)
	if t.Exists() {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Dev != t.Stat.Dev || st.Ino != t.Stat.Ino {
			f.Close()
			return nil, fmt.Errorf("open %s: it was replaced while being opened: retry", t.Path)
		}
	}
	return f, nil
}

// DirFile returns a new descriptor of Dir (O_PATH: usable as the directory
// of *at calls), as a file the caller closes.
func (t *Target) DirFile() (*os.File, error) {
	fd, err := unix.FcntlInt(uintptr(t.Dir), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate the descriptor of %s's directory: %w", t.Path, err)
	}
	return os.NewFile(uintptr(fd), path.Dir(t.Path)), nil
}
