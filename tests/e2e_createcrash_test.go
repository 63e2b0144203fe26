package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// restartWith stops d (SIGTERM) and starts it again with env.
func (d *daemonProc) restartWith(env ...string) {
	d.t.Helper()
	if err := d.kill(syscall.SIGTERM); err != nil {
		d.t.Fatalf("stop daemon: %v", err)
	}
	d.env = env
	d.start()
}

// waitDied waits for a daemon that is expected to die on its own (a
// failpoint's SIGKILL) and fails unless it was killed by that signal.
func (d *daemonProc) waitDied(sig syscall.Signal) {
	d.t.Helper()
	err := d.cmd.Wait()
	d.cmd = nil
	var ws syscall.WaitStatus
	ee, ok := err.(*exec.ExitError)
	if ok {
		ws, ok = ee.Sys().(syscall.WaitStatus)
	}
	if !ok || !ws.Signaled() || ws.Signal() != sig {
		d.t.Fatalf("daemon ended with %v, want killed by %v:\n%s", err, sig, tail(d.logs.String(), 4000))
	}
}

// TestE2ECreateCrashLeavesNoVaultOrAWholeOne kills the real daemon with
// SIGKILL at each step of "vault create" (REWIND_FAILPOINT) and restarts it:
// the vault is then either absent (and its name free) or whole (it unlocks and
// verifies), nothing is quarantined, and nothing else in the data dir changed.
func TestE2ECreateCrashLeavesNoVaultOrAWholeOne(t *testing.T) {
	for _, tc := range []struct {
		failpoint string
		whole     bool
	}{
		{"vault-create-after-marker", false},
		{"vault-create-after-store", false},
		{"vault-create-after-catalog", true},
		{"vault-create-after-vaultfile", true},
	} {
		t.Run(tc.failpoint, func(t *testing.T) {
			d := startDaemon(t, "")
			pf := filepath.Join(d.dir, "pass")
			if err := os.WriteFile(pf, []byte("correct horse battery staple\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			d.restartWith("REWIND_FAILPOINT=" + tc.failpoint)
			if _, _, code := d.run("vault", "create", "crash", "--passphrase-file", pf); code == 0 {
				t.Fatal("vault create succeeded although the daemon was killed during it")
			}
			d.waitDied(syscall.SIGKILL)
			d.env = nil
			d.start()
			checkCreateOutcome(t, d, pf, tc.whole)
		})
	}
}

func checkCreateOutcome(t *testing.T, d *daemonProc, pf string, whole bool) {
	t.Helper()
	var st struct {
		Vaults []struct {
			Name  string `json:"name"`
			Error string `json:"error"`
		} `json:"vaults"`
		Quarantined []any `json:"quarantined"`
	}
	d.jsonOf(&st, "status")
	if len(st.Quarantined) != 0 {
		t.Fatalf("quarantined after an interrupted create: %v", st.Quarantined)
	}
	names := map[string]string{}
	for _, v := range st.Vaults {
		names[v.Name] = v.Error
	}
	vdir := filepath.Join(d.data, "vaults", "crash")
	errMsg, present := names["crash"]
	if present != whole || errMsg != "" {
		t.Fatalf("vault present=%v (error %q), want present=%v:\n%s", present, errMsg, whole, tail(d.logs.String(), 3000))
	}
	if whole {
		d.must("vault", "unlock", "crash", "--passphrase-file", pf)
		d.must("verify", "crash")
		if _, err := os.Stat(filepath.Join(vdir, "create-in-progress")); !os.IsNotExist(err) {
			t.Fatalf("create marker kept in a whole vault: %v", err)
		}
		return
	}
	if _, err := os.Stat(vdir); !os.IsNotExist(err) {
		t.Fatalf("half-made vault directory kept: %v", err)
	}
	d.must("vault", "create", "crash", "--passphrase-file", pf)
}

// TestE2EMissingVaultFileSurvivesRestart moves vault.json away: the vault is
// reported (status, vault list), nothing of it is removed, and putting the
// file back brings every point back.
func TestE2EMissingVaultFileSurvivesRestart(t *testing.T) {
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	pf := d.createVault("prod")
	d.must("item", "add", "files", "--vault", "prod", "--share", src)
	d.must("backup", "files")
	vf := filepath.Join(d.data, "vaults", "prod", "vault.json")
	before := treeFiles(t, filepath.Join(d.data, "vaults", "prod"))
	if err := os.Rename(vf, vf+".away"); err != nil {
		t.Fatal(err)
	}
	d.restartWith()
	out := d.must("status")
	if !strings.Contains(out, "vault.json is missing") || !strings.Contains(out, "nothing was removed") {
		t.Fatalf("status does not report the missing vault.json:\n%s", out)
	}
	after := treeFiles(t, filepath.Join(d.data, "vaults", "prod"))
	for p := range before {
		if p != "vault.json" && !after[p] && !strings.HasPrefix(p, "store/index/") {
			t.Fatalf("%s was removed at start-up", p)
		}
	}
	if _, _, code := d.run("vault", "create", "prod", "--passphrase-file", pf); code == 0 {
		t.Fatal("create over a vault without vault.json succeeded")
	}
	if err := os.Rename(vf+".away", vf); err != nil {
		t.Fatal(err)
	}
	d.restartWith()
	var points []map[string]any
	d.jsonOf(&points, "points", "files")
	if len(points) != 1 {
		t.Fatalf("points after putting vault.json back: %v", points)
	}
	d.must("vault", "unlock", "prod", "--passphrase-file", pf)
	dst := filepath.Join(d.dir, "restored")
	d.must("restore", "share", "files", "--point", "latest", "--to", dst)
	compareTrees(t, src, dst)
}

// treeFiles lists the regular files under root, relative to it.
func treeFiles(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out[rel] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
