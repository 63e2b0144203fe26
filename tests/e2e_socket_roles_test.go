package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unixUser creates a system user (no home, no login) in group primary and
// the supplementary groups, removed when the test ends.
func unixUser(t *testing.T, name, primary string, groups ...string) {
	t.Helper()
	args := []string{"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--gid", primary}
	if len(groups) > 0 {
		args = append(args, "--groups", strings.Join(groups, ","))
	}
	if out, err := exec.Command("useradd", append(args, name)...).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v %s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
}

func unixGroup(t *testing.T, name string) {
	t.Helper()
	if out, err := exec.Command("groupadd", "--system", name).CombinedOutput(); err != nil {
		t.Fatalf("groupadd %s: %v %s", name, err, out)
	}
	t.Cleanup(func() { exec.Command("groupdel", name).Run() })
}

// runAs runs the CLI against d's socket as user (setpriv drops to its uid,
// gid and groups) and returns stdout, stderr and the exit code.
func (d *daemonProc) runAs(user string, args ...string) (string, string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "setpriv", append([]string{"--reuid", user, "--regid", user, "--init-groups", "--", rewindBin}, args...)...)
	cmd.Env = append(os.Environ(), "REWIND_SOCKET="+d.socket, "HOME=/")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return out.String(), errb.String(), code
}

// openToOthers lets other users reach path: every directory from it up to
// the temporary directory gets o+x (the test made them, 0700).
func openToOthers(t *testing.T, path string) {
	for p := path; p != os.TempDir() && p != "/" && p != "."; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o001 != 0 {
			continue
		}
		if err := os.Chmod(p, st.Mode().Perm()|0o011); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSocketRoles reproduces the socket half of issue 12 finding 4's role
// problem: every member of the socket group was an admin. Now root is admin,
// other users get exactly the roles socket_roles names for them or their
// groups, and a member of the socket group with no entry gets none.
func TestSocketRoles(t *testing.T) {
	need(t, "useradd", "groupadd", "setpriv")
	b := make([]byte, 3)
	rand.Read(b)
	sfx := hex.EncodeToString(b)
	sock, ops := "rwsk"+sfx, "rwop"+sfx
	restorer, operator, nobody := "rwre"+sfx, "rwbk"+sfx, "rwno"+sfx
	unixGroup(t, sock)
	unixGroup(t, ops)
	for _, u := range []string{restorer, operator, nobody} {
		unixGroup(t, u)
	}
	unixUser(t, restorer, restorer, sock)
	unixUser(t, operator, operator, sock, ops)
	unixUser(t, nobody, nobody, sock)

	restoreRoot := t.TempDir()
	d := startDaemon(t, fmt.Sprintf("socket_group = %q\nsocket_roles = { %q = \"restore-operator\", \"@%s\" = \"backup-operator\" }\nrestore_roots = [%q]\n",
		sock, restorer, ops, restoreRoot))
	openToOthers(t, filepath.Dir(d.socket))
	openToOthers(t, filepath.Dir(rewindBin))
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	restoreTo := filepath.Join(restoreRoot, "r")

	cases := []struct {
		user string
		args []string
		want int
		msg  string
	}{
		{nobody, []string{"status"}, 5, "has no role"},
		{nobody, []string{"token", "create", "--role", "admin"}, 5, "has no role"},
		{operator, []string{"points", "files"}, 0, ""},
		{operator, []string{"backup", "files"}, 0, ""},
		{operator, []string{"restore", "share", "files", "--point", "latest", "--to", restoreTo, "--conflict", "rename"}, 5, "restore-operator"},
		{operator, []string{"token", "create", "--role", "admin"}, 5, "admin"},
		{restorer, []string{"restore", "share", "files", "--point", "latest", "--to", restoreTo, "--conflict", "rename"}, 0, ""},
		{restorer, []string{"policy", "create", "mine", "--daily", "22:30"}, 5, "admin"},
		{restorer, []string{"token", "create", "--role", "admin"}, 5, "admin"},
	}
	for _, c := range cases {
		_, errOut, code := d.runAs(c.user, c.args...)
		if code != c.want || !strings.Contains(errOut, c.msg) {
			t.Errorf("%s: rewind %s: exit %d %q, want %d mentioning %q", c.user, strings.Join(c.args, " "), code, errOut, c.want, c.msg)
		}
	}
	var tokens []map[string]any
	d.jsonOf(&tokens, "token", "list")
	if len(tokens) != 0 {
		t.Fatalf("a non-admin socket user created a token: %v", tokens)
	}
}
