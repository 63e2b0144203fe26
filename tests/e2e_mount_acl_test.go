package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestE2EMountEnforcesACLs: a mount shared with --allow-other must refuse
// what the recorded ACL refuses. Without the kernel's FUSE ACL support the
// kernel checked the mode bits alone, so a user an ACL entry shut out
// (u:USER:---) read the file through the "other" bits.
func TestE2EMountEnforcesACLs(t *testing.T) {
	need(t, "runuser", "setfacl")
	d := startDaemon(t, "")
	unprivUser(t)
	share := filepath.Join(d.dir, "share")
	mustOK(t, os.MkdirAll(share, 0o755))
	for _, f := range []string{"denied", "open"} {
		mustOK(t, os.WriteFile(filepath.Join(share, f), []byte("secret"), 0o644))
	}
	mustRun(t, "setfacl", "-m", "u:"+targetUser+":---", filepath.Join(share, "denied"))
	d.must("item", "add", "acl", "--share", share)
	d.must("backup", "acl")
	base, err := os.MkdirTemp("", "rewind-e2e-aclmnt-")
	mustOK(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	mustOK(t, os.Chmod(base, 0o755))
	mnt := filepath.Join(base, "mnt")
	mustOK(t, os.Mkdir(mnt, 0o755))
	d.must("mount", mnt, "--allow-other")
	t.Cleanup(func() { d.run("umount", mnt) })
	point, err := filepath.EvalSymlinks(filepath.Join(mnt, "acl", "latest"))
	mustOK(t, err)
	cat := func(name string) error {
		return exec.Command("runuser", "-u", targetUser, "--", "cat", filepath.Join(point, name)).Run()
	}
	if err := cat("open"); err != nil {
		t.Fatalf("%s cannot read a 0644 file in the mount: %v", targetUser, err)
	}
	if err := cat("denied"); err == nil {
		t.Errorf("%s read a file whose ACL denies it (u:%s:---) through the mount", targetUser, targetUser)
	}
}
