package fsmount

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/pathsafe"
)

// TestMountNeverFollowsUserSymlink: the mount itself resolves its path
// (only root's symlinks followed) and mounts through the descriptor of the
// directory it resolved, so a user's link swapped in after the caller's
// checks never carries the mount onto another directory.
func TestMountNeverFollowsUserSymlink(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir()
	user := filepath.Join(base, "u")
	target := filepath.Join(base, "daemon-index")
	for _, d := range []string{user, target} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(user, "mnt")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	f := newFixture()
	m, err := mount(context.Background(), link, f.cat, f.open, Options{})
	if err == nil {
		m.Unmount()
		t.Fatalf("mounted at %s through a symlink owned by uid 65534", link)
	}
	var unsafe *pathsafe.UnsafeLinkError
	if !errors.As(err, &unsafe) {
		t.Fatalf("mount through a user's symlink: %v, want the link named", err)
	}
	if isMounted(t, target) {
		t.Fatal("the link's target was mounted over")
	}
}
