package fsmount

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// clearStale detaches a dead rewind mount at dir, left behind by a server
// that was killed (its mount point answers ENOTCONN). Mounts of other file
// systems are left alone. (statfs always reaches the server; a stat could
// be answered from the kernel's attribute cache.)
func clearStale(dir string, log *slog.Logger) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); !errors.Is(err, unix.ENOTCONN) {
		return nil
	}
	ok, err := isRewindMount(dir)
	if err != nil || !ok {
		return fmt.Errorf("%s is a dead mount of another file system: unmount it first", dir)
	}
	log.Warn("fsmount: detaching a stale mount left by a killed server", "mountpoint", dir)
	return unix.Unmount(dir, unix.MNT_DETACH)
}

// isRewindMount reports whether dir is the mount point of a fuse.rewind mount.
func isRewindMount(dir string) (bool, error) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return false, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 2 && unescapeMount(f[1]) == dir && f[2] == "fuse.rewind" {
			return true, nil
		}
	}
	return false, nil
}

// unescapeMount undoes the octal escapes of /proc/self/mounts (\040 for space…).
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}
