package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// dataLockName is the file in the data directory a running daemon holds an
// exclusive flock on, with its pid written into it.
const dataLockName = "daemon.lock"

// lockDataDir takes the data directory's exclusive lock before anything in
// it is opened, so a second daemon on the same directory exits at once
// instead of serving vaults it cannot open. The returned file holds the
// lock until it is closed (or the process dies). The error of a held lock
// names the holder's pid.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, dataLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another rewind daemon (%s): stop it, or give this one another --data", dir, holderOf(path))
		}
		return nil, fmt.Errorf("lock data directory %s: %w", path, err)
	}
	if err := writePid(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory lock %s: %w", path, err)
	}
	return f, nil
}

// writePid replaces the lock file's content with this process's pid.
func writePid(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// holderOf describes the pid recorded in a held lock file.
func holderOf(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "pid unknown"
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return "pid unknown"
	}
	return "pid " + strconv.Itoa(pid)
}
