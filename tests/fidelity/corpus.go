package fidelity

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Tools are the programs Build runs (with their Debian packages, for the
// install hint).
var Tools = map[string]string{
	"touch": "coreutils", "ln": "coreutils", "mkfifo": "coreutils", "mknod": "coreutils",
	"truncate": "coreutils", "dd": "coreutils", "chmod": "coreutils", "chown": "coreutils",
	"setfacl": "acl", "setfattr": "attr", "setcap": "libcap2-bin",
}

// Build makes the fidelity corpus under dir (created) with the real tools,
// one case per kind of metadata a restore must bring back:
//
//	times/     mtime 2300-01-01 and 1969-12-31 with nanoseconds, atimes apart, a symlink's times
//	links/     hard-linked pairs of a file, FIFO, socket, char device and symlink
//	acl/       a file with an access ACL, a directory with access and default ACLs
//	xattr/     user.* xattrs (one binary, one empty), security.capability, setuid/setgid files
//	sparse/    a 1 GiB file with two data regions, an all-hole file
//	dev/       char and block device nodes
//
// It needs root (devices, owners, capabilities). Times are set last, so
// building the corpus does not move them.
func Build(dir string) error {
	steps := [][]string{
		{"mkdir", "-p", "times/dir", "links", "acl/shared", "xattr", "sparse", "dev"},
		// hard links of every type
		{"sh", "-c", "printf 'linked data' > links/file"}, {"ln", "links/file", "links/file2"},
		{"mkfifo", "-m", "0640", "links/fifo"}, {"ln", "links/fifo", "links/fifo2"},
		{"mknod", "-m", "0600", "links/null", "c", "1", "3"}, {"ln", "links/null", "links/null2"},
		{"ln", "-s", "../times/future", "links/sym"}, {"ln", "-P", "links/sym", "links/sym2"},
		// ACLs and xattrs
		{"sh", "-c", "printf 'secret' > acl/file"}, {"chmod", "0640", "acl/file"},
		{"setfacl", "-m", "u:99:r,g:98:rw", "acl/file"},
		{"setfacl", "-m", "u:97:rx", "acl/shared"}, {"setfacl", "-d", "-m", "u:96:rwx,g::r-x", "acl/shared"},
		{"sh", "-c", "printf 'x' > xattr/file"},
		{"setfattr", "-n", "user.bin", "-v", "0x00ff10", "xattr/file"},
		{"setfattr", "-n", "user.empty", "xattr/file"},
		{"sh", "-c", "printf '#!/bin/true' > xattr/capfile"}, {"chmod", "0755", "xattr/capfile"},
		{"setcap", "cap_net_raw+ep", "xattr/capfile"},
		{"sh", "-c", "printf 'suid' > xattr/suid && printf 'sgid' > xattr/sgid"},
		{"chown", "1234:5678", "xattr/suid", "xattr/sgid"},
		{"chmod", "4755", "xattr/suid"}, {"chmod", "2711", "xattr/sgid"},
		// sparse
		{"truncate", "-s", "1G", "sparse/big"},
		{"dd", "if=/dev/urandom", "of=sparse/big", "bs=64K", "count=3", "seek=100", "conv=notrunc", "status=none"},
		{"dd", "if=/dev/urandom", "of=sparse/big", "bs=64K", "count=1", "seek=16383", "conv=notrunc", "status=none"},
		{"truncate", "-s", "10M", "sparse/holes"},
		// devices
		{"mknod", "-m", "0660", "dev/tty5", "c", "4", "5"}, {"mknod", "-m", "0660", "dev/loop7", "b", "7", "7"},
		{"chown", "0:6", "dev/loop7"},
		// times, last
		{"sh", "-c", "printf 'from the future' > times/future && printf 'from the past' > times/past"},
		{"touch", "-m", "-d", "2300-01-01 00:00:00.123456789 UTC", "times/future"},
		{"touch", "-a", "-d", "2299-06-30 12:00:00.5 UTC", "times/future"},
		{"touch", "-d", "1969-12-31 23:59:59.987654321 UTC", "times/past"},
		{"ln", "-s", "future", "times/link"},
		{"touch", "-h", "-d", "1960-02-29 12:00:00.25 UTC", "times/link"},
		{"touch", "-d", "2262-04-12 00:00:00 UTC", "times/dir"},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range steps {
		if err := run(dir, s...); err != nil {
			return err
		}
		if s[0] == "mkfifo" && s[len(s)-1] == "links/fifo" {
			if err := makeSocket(filepath.Join(dir, "links/sock")); err != nil {
				return err
			}
			if err := run(dir, "ln", "links/sock", "links/sock2"); err != nil {
				return err
			}
		}
	}
	return nil
}

func run(dir string, args ...string) error {
	cmd := exec.Command(lookPath(args[0]), args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("corpus: %s is not installed: run \"make test-deps\" (apt-get install %s)", args[0], Tools[args[0]])
	}
	if err != nil {
		return fmt.Errorf("corpus: %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// makeSocket leaves a bound unix socket's inode at path (closing the
// descriptor keeps the file).
func makeSocket(path string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("corpus: bind %s: %w", path, err)
	}
	return nil
}

// lookPath finds tool in PATH or in the sbin directories a non-login
// shell may leave out (setcap lives in /usr/sbin).
func lookPath(tool string) string {
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if p, err := exec.LookPath(filepath.Join(d, tool)); err == nil {
			return p
		}
	}
	return tool
}
