package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rewind-backup/rewind/tests/fidelity"
)

// fidelityOpts: symlink atimes are recorded as their mtime (readlink moves
// them) and directory atimes move when they are listed.
var fidelityOpts = fidelity.Options{NoSymlinkAtime: true, NoDirAtime: true}

// TestE2EFidelityShare backs up the fidelity corpus (times outside
// 1970..2262, hard links of every type, ACLs, xattrs, capabilities,
// setuid, sparse files, devices, a socket) with the real daemon and checks
// every way it comes back against the source, reporting every difference:
// restore share and restore files into a directory with a default ACL
// (nothing may be inherited), restore share --conflict overwrite over a tree whose
// directories carry stale xattrs and ACLs, and the mount copied out with
// cp -a and rsync -aHAX.
func TestE2EFidelityShare(t *testing.T) {
	need(t, "fusermount3", "rsync", "setfacl", "setfattr")
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "corpus")
	if err := fidelity.Build(src); err != nil {
		t.Fatal(err)
	}
	want, err := fidelity.Scan(src)
	if err != nil {
		t.Fatal(err)
	}
	d.createVault("fid")
	d.must("item", "add", "corpus", "--vault", "fid", "--share", src)
	d.must("backup", "corpus")

	area := filepath.Join(d.dir, "area")
	mustRun(t, "mkdir", area)
	mustRun(t, "setfacl", "-d", "-m", "u:99:rwx", area)
	fresh := filepath.Join(area, "fresh")
	d.must("restore", "share", "corpus", "--point", "latest", "--to", fresh)
	expectSame(t, "restore share under a default ACL", want, fresh, fidelityOpts)

	// stale metadata on existing directories must go on overwrite
	mustRun(t, "setfattr", "-n", "user.stale", "-v", "1", filepath.Join(fresh, "times/dir"))
	mustRun(t, "setfacl", "-m", "u:55:rwx", filepath.Join(fresh, "links"))
	mustRun(t, "setfacl", "-b", filepath.Join(fresh, "acl/shared"))
	mustRun(t, "setfattr", "-n", "user.stale", "-v", "2", filepath.Join(fresh, "xattr/file"))
	d.must("restore", "share", "corpus", "--point", "latest", "--to", fresh, "--conflict", "overwrite")
	expectSame(t, "restore share --conflict overwrite", want, fresh, fidelityOpts)

	files := filepath.Join(area, "files")
	d.must("restore", "files", "corpus", "--point", "latest", "--path", "/", "--to", files)
	expectSame(t, "restore files --path / of a share point", want, files, fidelityOpts)

	mnt := filepath.Join(d.dir, "mnt")
	mustRun(t, "mkdir", mnt)
	d.must("mount", mnt, "--vault", "fid")
	t.Cleanup(func() { d.run("umount", mnt) })
	point, err := filepath.EvalSymlinks(filepath.Join(mnt, "corpus", "latest"))
	if err != nil {
		t.Fatal(err)
	}
	point += "/"
	expectSame(t, "the mount itself", want, point, fidelityOpts)
	cpDst := filepath.Join(d.dir, "cp")
	mustRun(t, "cp", "-a", point, cpDst)
	expectSame(t, "cp -a out of the mount", want, cpDst, fidelityOpts)
	rsDst := filepath.Join(d.dir, "rsync")
	// -S writes holes for zero runs, -U keeps atimes (rsync -a does neither;
	// rsync 3.x carries atimes in whole seconds)
	mustRun(t, "rsync", "-aHAXSU", point, rsDst+"/")
	rsOpts := fidelityOpts
	rsOpts.AtimeSeconds = true
	expectSame(t, "rsync -aHAXSU out of the mount", want, rsDst, rsOpts)
}

func expectSame(t *testing.T, what string, want fidelity.Tree, dir string, o fidelity.Options) {
	t.Helper()
	got, err := fidelity.Scan(dir)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if diffs := fidelity.Diff(want, got, o); len(diffs) > 0 {
		t.Errorf("%s: %d differences:\n%s", what, len(diffs), strings.Join(diffs, "\n"))
	}
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestE2EShareRestoreByNonAdminDropsPrivileges: a restore-operator's share
// restore of the fidelity corpus leaves out setuid/setgid bits, the file
// capability, device nodes and owners, and says so (exit 3, warnings); an
// admin's restore of the same point keeps them (TestE2EFidelityShare).
func TestE2EShareRestoreByNonAdminDropsPrivileges(t *testing.T) {
	// the test's temporary root holds the daemon's directory: restore-operators restore there
	d, remote := tcpDaemon(t, fmt.Sprintf("restore_roots = [%q]", filepath.Dir(t.TempDir())))
	src := filepath.Join(d.dir, "corpus")
	if err := fidelity.Build(src); err != nil {
		t.Fatal(err)
	}
	d.must("item", "add", "corpus", "--share", src)
	d.must("backup", "corpus")
	dst := filepath.Join(d.dir, "as-operator")
	args := append(append([]string{}, remote...), "restore", "share", "corpus", "--point", "latest", "--to", dst,
		"--token", d.token("restore-operator"))
	out, errOut, code := d.run(args...)
	if code != 3 {
		t.Fatalf("restore as restore-operator: exit %d, want 3 (completed with warnings)\n%s%s", code, out, errOut)
	}
	got, err := fidelity.Scan(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"dev/tty5", "dev/loop7", "links/null", "links/null2"} {
		if got[p] != nil {
			t.Errorf("%s: device node restored for a non-admin", p)
		}
	}
	if s := got["xattr/suid"]; s == nil || s.Mode&0o7777 != 0o755 || s.Uid != 0 {
		t.Errorf("xattr/suid: %+v, want mode 0755 owned by root", s)
	}
	if s := got["xattr/sgid"]; s == nil || s.Mode&0o7777 != 0o711 || s.Gid != 0 {
		t.Errorf("xattr/sgid: %+v, want mode 0711 group root", s)
	}
	if s := got["xattr/capfile"]; s == nil || s.Xattrs["security.capability"] != "" {
		t.Errorf("xattr/capfile keeps its capability: %+v", s)
	}
	if s := got["acl/file"]; s == nil || s.Xattrs["system.posix_acl_access"] == "" {
		t.Errorf("acl/file lost its ACL, which grants no privilege: %+v", s)
	}
	var jobs []map[string]any
	d.jsonOf(&jobs, "jobs", "--item", "corpus")
	warned := false
	for _, j := range jobs {
		if strings.Contains(fmt.Sprint(j["warnings"]), "security.capability") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no job warns about the dropped capability: %v", jobs)
	}
}
