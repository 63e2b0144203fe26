package fileshare

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDeeperThanPathMax: a tree whose paths exceed PATH_MAX (4096) backs up
// and restores, since both sides work through directory descriptors.
func TestDeeperThanPathMax(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	name := strings.Repeat("n", 50)
	const depth = 120 // 120 × 51 bytes ≈ 6 KiB of path
	fd := mkdirChain(t, src, name, depth)
	f, err := unix.Openat(fd, "bottom", unix.O_CREAT|unix.O_WRONLY, 0o600)
	must(t, err)
	_, err = unix.Write(f, []byte("at the bottom"))
	must(t, err)
	unix.Close(f)
	unix.Close(fd)
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	if len(res.Warnings) != 0 {
		t.Fatalf("warnings: %q", res.Warnings)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	rr, err := Restore(ctx, s, res.Root, dst, RestoreOptions{Verify: true})
	must(t, err)
	if len(rr.Warnings) != 0 || len(rr.Mismatches) != 0 || rr.Verified != 1 {
		t.Fatalf("restore: %+v", rr)
	}
	fd = openChain(t, dst, name, depth)
	defer unix.Close(fd)
	b := make([]byte, 64)
	g, err := unix.Openat(fd, "bottom", unix.O_RDONLY, 0)
	must(t, err)
	n, _ := unix.Read(g, b)
	unix.Close(g)
	if string(b[:n]) != "at the bottom" {
		t.Fatalf("bottom file holds %q", b[:n])
	}
}

func mkdirChain(t *testing.T, root, name string, depth int) int {
	must(t, unix.Mkdir(root, 0o755))
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, err)
	for i := 0; i < depth; i++ {
		must(t, unix.Mkdirat(fd, name, 0o755))
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		must(t, err)
		unix.Close(fd)
		fd = next
	}
	return fd
}

func openChain(t *testing.T, root, name string, depth int) int {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	must(t, err)
	for i := 0; i < depth; i++ {
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		must(t, err)
		unix.Close(fd)
		fd = next
	}
	return fd
}
