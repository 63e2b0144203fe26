package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mounted reports whether dir is a mount point in the test's namespace.
func mounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	mustOK(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// TestE2EUnmountSwappedPath: an admin mounts a point for a user inside the
// user's directory; the user moves a directory on the path away and puts a
// symlink to another mount (a tmpfs standing in for /proc or a shard
// target) where the mount point was. Unmounting (by the API or at expiry)
// must not follow that link: root would unmount whatever it names.
func TestE2EUnmountSwappedPath(t *testing.T) {
	need(t, "fusermount3", "runuser")
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	_, home := unprivUser(t)

	victim := filepath.Join(filepath.Dir(home), "victim")
	mustOK(t, os.Mkdir(victim, 0o755))
	sh(t, "mount", "-t", "tmpfs", "-o", "size=1m", "rewind-victim", victim)
	t.Cleanup(func() { sh(t, "umount", "-l", victim) })

	as := func(args ...string) { sh(t, "runuser", append([]string{"-u", targetUser, "--"}, args...)...) }
	as("mkdir", "-p", filepath.Join(home, "d", "mnt"))
	mp := filepath.Join(home, "d", "mnt")
	d.must("mount", mp)
	moved := filepath.Join(home, "d2", "mnt")
	t.Cleanup(func() { sh(t, "umount", "-l", moved) })

	as("mv", filepath.Join(home, "d"), filepath.Join(home, "d2"))
	as("mkdir", filepath.Join(home, "d"))
	as("ln", "-s", victim, mp)
	if !mounted(t, moved) {
		t.Fatalf("the rewind mount did not move with its parent to %s", moved)
	}

	_, errOut, code := d.run("umount", mp)
	if !mounted(t, victim) {
		t.Fatalf("unmounting %s followed the user's symlink and unmounted %s (exit %d %q)", mp, victim, code, errOut)
	}
	if code == 0 || !strings.Contains(errOut, "no longer leads") {
		t.Fatalf("umount through a swapped path: exit %d %q, want a refusal", code, errOut)
	}
	if out := d.must("mounts"); !strings.Contains(out, mp) {
		t.Fatalf("the refused mount is no longer listed:\n%s", out)
	}
}

// TestE2EUnlockLimitPerVault: an admin rate-limited for wrong passphrases
// does not get fresh guesses by creating itself a new token: the count is
// kept per vault as well as per principal.
func TestE2EUnlockLimitPerVault(t *testing.T) {
	d, remote := tcpDaemon(t)
	pf := d.createVault("prod")
	d.must("vault", "unlock", "prod", "--passphrase-file", pf)
	wrong := filepath.Join(d.dir, "wrong.pass")
	mustOK(t, os.WriteFile(wrong, []byte("not it at all\n"), 0o600))
	first := asToken(remote, d.token("admin"))
	for i := 0; i < 3; i++ {
		if _, errOut, code := d.run(first("vault", "unlock", "prod", "--passphrase-file", wrong)...); code != 5 {
			t.Fatalf("wrong passphrase %d: exit %d %q", i+1, code, errOut)
		}
	}
	if _, errOut, code := d.run(first("vault", "unlock", "prod", "--passphrase-file", wrong)...); !strings.Contains(errOut, "try again in") {
		t.Fatalf("the fourth guess: exit %d %q, want rate-limited", code, errOut)
	}
	var tok map[string]any
	d.jsonOf(&tok, first("token", "create", "--role", "admin")...)
	fresh := asToken(remote, tok["secret"].(string))
	if _, errOut, code := d.run(fresh("vault", "unlock", "prod", "--passphrase-file", wrong)...); code != 5 || !strings.Contains(errOut, "try again in") {
		t.Fatalf("a guess with a token the limited admin just made: exit %d %q, want rate-limited", code, errOut)
	}
}

// TestE2EHookOutputHidden: what a failing hook prints (a dump tool's
// connection string, a script's set -x) reaches neither job warnings nor
// point reasons, which every reader sees; it goes to the daemon's log.
func TestE2EHookOutputHidden(t *testing.T) {
	d, remote := tcpDaemon(t)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "hooked", "--share", src,
		"--pre-freeze", "echo pre-hunter2 >&2; exit 1", "--post-thaw", "echo thaw-hunter2; exit 1")
	if _, errOut, code := d.run("backup", "hooked"); code != 0 && code != 3 {
		t.Fatalf("backup: exit %d %q", code, errOut)
	}
	reader := asToken(remote, d.token("reader"))
	for _, args := range [][]string{{"jobs", "--item", "hooked"}, {"points", "hooked"}, {"item", "show", "hooked"}, {"status"}} {
		out, errOut, code := d.run(append(reader(args...), "--json")...)
		if code != 0 {
			t.Fatalf("reader %v: exit %d %q", args, code, errOut)
		}
		if strings.Contains(out, "hunter2") {
			t.Errorf("reader %v sees a hook's output:\n%s", args, out)
		}
	}
	if !strings.Contains(d.logs.String(), "hunter2") {
		t.Error("the hook's output is not in the daemon's log either")
	}
}

// TestE2ERevokedRequesterNotCarriedOut: an admin token asks to switch
// multi-user approval off and is revoked (stolen, or its holder left); a
// security admin approving the stale request must not carry it out.
func TestE2ERevokedRequesterNotCarriedOut(t *testing.T) {
	d, remote := tcpDaemon(t)
	d.must("vault", "set", "default", "--multi-user-approval")
	sa := asToken(remote, d.token("security-admin"))
	var tok map[string]any
	d.jsonOf(&tok, "token", "create", "--role", "admin")
	admin := asToken(remote, tok["secret"].(string))
	id := requestID(t, d, admin("vault", "set", "default", "--multi-user-approval=false")...)
	d.must("token", "revoke", tok["id"].(string))
	if _, errOut, code := d.run(sa("approve", id)...); code == 0 || !strings.Contains(errOut, "revoked") {
		t.Fatalf("approving a revoked token's request: exit %d %q, want a refusal", code, errOut)
	}
	var v map[string]any
	d.jsonOf(&v, "vault", "show", "default")
	if s, _ := v["settings"].(map[string]any); fmt.Sprint(s["multi_user_approval"]) != "true" {
		t.Fatalf("multi-user approval was switched off by a revoked token's request: %v", v)
	}
}

// TestE2ESourceSwappedForUserSymlink: an item's share path is checked when
// it is added, but a backup runs as root later. A component that another
// user swapped for a symlink since (here: the link is handed to uid 65534)
// makes the backup refuse, naming the link, instead of reading where it
// points; a root-owned link is followed as before.
func TestE2ESourceSwappedForUserSymlink(t *testing.T) {
	d := startDaemon(t, "")
	real := filepath.Join(d.dir, "real")
	makeTree(t, real)
	link := filepath.Join(d.dir, "share")
	mustOK(t, os.Symlink(real, link))
	d.must("item", "add", "files", "--share", link)
	d.must("backup", "files") // root's own link: followed
	mustOK(t, os.Lchown(link, 65534, 65534))
	_, errOut, code := d.run("backup", "files")
	if code == 0 || code == 3 || !strings.Contains(errOut, link) || !strings.Contains(errOut, "symlink") {
		t.Fatalf("backup through another user's symlink: exit %d %q, want a refusal naming %s", code, errOut, link)
	}
	var points []map[string]any
	d.jsonOf(&points, "points", "files")
	if len(points) != 1 {
		t.Fatalf("the refused backup made a point: %v", points)
	}
}
