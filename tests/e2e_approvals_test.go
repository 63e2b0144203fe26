package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// asToken returns a function building CLI arguments that talk to the TLS API
// (remote) with the bearer token secret.
func asToken(remote []string, secret string) func(args ...string) []string {
	return func(args ...string) []string {
		out := append(append([]string{}, remote...), args...)
		return append(out, "--token", secret)
	}
}

// tcpDaemonWith is tcpDaemon with extra config text.
func tcpDaemonWith(t *testing.T, extra string) (*daemonProc, []string) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d := startDaemon(t, extra+fmt.Sprintf("\n[tcp]\nlisten = %q\ncert = %q\nkey = %q\n", addr, cert, key))
	return d, []string{"--url", "https://" + addr, "--ca", cert}
}

var approveRe = regexp.MustCompile(`rewind approve (\S+)"`)

// requestID runs a critical operation that must wait for approval and
// returns the request's id.
func requestID(t *testing.T, d *daemonProc, args ...string) string {
	t.Helper()
	_, errOut, code := d.run(args...)
	m := approveRe.FindStringSubmatch(errOut)
	if code == 0 || m == nil {
		t.Fatalf("rewind %s should wait for approval: exit %d %q", strings.Join(args, " "), code, errOut)
	}
	return m[1]
}

func approvals(t *testing.T, d *daemonProc, as func(...string) []string, state string) map[string]map[string]any {
	t.Helper()
	var rows []map[string]any
	args := []string{"approvals", "list"}
	if state != "" {
		args = append(args, "--state", state)
	}
	d.jsonOf(&rows, as(args...)...)
	out := map[string]map[string]any{}
	for _, r := range rows {
		out[fmt.Sprint(r["id"])] = r
	}
	return out
}

// TestE2EOneAdminCannotDeleteEverything is findings 2 and 3 as reproduced: an
// admin token tries to switch multi-user approval off, lower immutability,
// shorten soft delete, stop with delete and approve its own requests, also
// through a security-admin token it makes. Every step is held or refused;
// a security admin independent of it sees the requests and decides.
func TestE2EOneAdminCannotDeleteEverything(t *testing.T) {
	d, remote := tcpDaemon(t)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	d.must("vault", "set", "default", "--multi-user-approval", "--immutability", "on", "--soft-delete-days", "30")

	// Bootstrap: root makes the first security-admin token, only while none exists.
	sa := asToken(remote, d.token("security-admin"))
	if _, errOut, code := d.run("token", "create", "--role", "security-admin"); code != 5 || !strings.Contains(errOut, "security admin") {
		t.Fatalf("root made a second security-admin token: exit %d %q", code, errOut)
	}
	adminSecret := d.token("admin")
	admin := asToken(remote, adminSecret)
	// Finding 3: an admin cannot make itself an approver.
	if _, errOut, code := d.run(admin("token", "create", "--role", "security-admin")...); code != 5 {
		t.Fatalf("an admin created a security-admin token: exit %d %q", code, errOut)
	}

	// Finding 2: every step of "delete everything" is held.
	muaOff := requestID(t, d, admin("vault", "set", "default", "--multi-user-approval=false")...)
	immOff := requestID(t, d, admin("vault", "set", "default", "--immutability", "off")...)
	shorter := requestID(t, d, admin("vault", "set", "default", "--soft-delete-days", "14")...)
	stop := requestID(t, d, admin("item", "stop", "files", "--delete-data")...)
	// Soft delete 0 on an immutable vault can never succeed: refused at once, not queued.
	if _, errOut, code := d.run(admin("vault", "set", "default", "--soft-delete-days", "0")...); code == 0 || strings.Contains(errOut, "rewind approve") {
		t.Fatalf("an impossible change should be refused at once: exit %d %q", code, errOut)
	}
	var v map[string]any
	d.jsonOf(&v, "vault", "show", "default")
	set := v["settings"].(map[string]any)
	if set["multi_user_approval"] != true || set["immutability"] != "on" {
		t.Fatalf("held requests changed the vault: %v", set)
	}
	for _, id := range []string{muaOff, immOff, shorter, stop} {
		if _, errOut, code := d.run(admin("approve", id)...); code != 5 {
			t.Fatalf("the requester approved %s: exit %d %q", id, code, errOut)
		}
	}
	// An admin follows its requests (API.md's role table: 200), but never decides them.
	if _, errOut, code := d.run(admin("approvals")...); code != 0 {
		t.Fatalf("an admin listing approvals: exit %d %q, want 0 (API.md's role table)", code, errOut)
	}

	// Finding 10: the security admin sees what it approves.
	pending := approvals(t, d, sa, "pending")
	for _, id := range []string{muaOff, immOff, shorter, stop} {
		r, ok := pending[id]
		if !ok || r["requester"] != "token:"+strings.Split(adminSecret, "_")[1] || r["summary"] == "" {
			t.Fatalf("request %s in the security admin's list: %v (all: %v)", id, r, pending)
		}
	}
	out := d.must(sa("approvals", "show", stop)...)
	if !strings.Contains(out, "delete its data") {
		t.Fatalf("approvals show says: %s", out)
	}
	d.must(sa("approvals", "reject", muaOff, "--reason", "no")...)
	if _, _, code := d.run(sa("approve", muaOff)...); code == 0 {
		t.Fatal("a rejected request was approved")
	}
	d.must(sa("approve", stop)...)
	var item map[string]any
	d.jsonOf(&item, "item", "show", "files")
	if item["state"] != "protection-stopped-deleted" {
		t.Fatalf("after approval the item is %v", item["state"])
	}
	if st := approvals(t, d, sa, "")[muaOff]["state"]; st != "rejected" {
		t.Fatalf("rejected request shows as %v", st)
	}
}

// TestE2EApproverNotCreatedByRequester: a security-admin token made (through
// another token) by the requester cannot approve; the requester itself is
// refused with exit 5.
func TestE2EApproverNotCreatedByRequester(t *testing.T) {
	d, remote := tcpDaemonWith(t, `security_admins = ["root"]`)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	d.must("vault", "set", "default", "--multi-user-approval")
	first := asToken(remote, d.token("security-admin")) // created by user:root
	var tok map[string]any
	d.jsonOf(&tok, first("token", "create", "--role", "security-admin")...)
	second := asToken(remote, tok["secret"].(string)) // created by the first, so by root transitively
	var list []map[string]any
	d.jsonOf(&list, "token", "list")
	if len(list) != 2 || list[1]["created_by"] != "token:"+fmt.Sprint(list[0]["id"]) || list[0]["created_by"] != "user:root" {
		t.Fatalf("token list must say who created each: %v", list)
	}

	req := requestID(t, d, "item", "stop", "files", "--delete-data") // by user:root
	_, errOut, code := d.run("approve", req)
	if code != 5 || !strings.Contains(errOut, "cannot approve") {
		t.Fatalf("root approved its own request: exit %d %q", code, errOut)
	}
	for name, as := range map[string]func(...string) []string{"first": first, "second": second} {
		_, errOut, code := d.run(as("approve", req)...)
		if code != 5 || !strings.Contains(errOut, "created by user:root") {
			t.Fatalf("the %s security-admin token, made by the requester, approved: exit %d %q", name, code, errOut)
		}
	}
	// An admin token root made asks; root (a configured security admin) made
	// it, so root cannot approve either; the bootstrap token can.
	admin := asToken(remote, d.token("admin"))
	req2 := requestID(t, d, admin("vault", "set", "default", "--multi-user-approval=false")...)
	if _, errOut, code := d.run("approve", req2); code != 5 || !strings.Contains(errOut, "created") {
		t.Fatalf("root approved a request of a token it made: exit %d %q", code, errOut)
	}
	d.must(first("approve", req2)...)
	var v map[string]any
	d.jsonOf(&v, "vault", "show", "default")
	if v["settings"].(map[string]any)["multi_user_approval"] != false {
		t.Fatalf("approved: multi-user approval is still %v", v["settings"])
	}
}

// TestE2EApprovalExpiry: requests expire after approval_ttl, show as expired
// and cannot be approved.
func TestE2EApprovalExpiry(t *testing.T) {
	d, remote := tcpDaemonWith(t, `approval_ttl = "2s"`)
	d.must("vault", "set", "default", "--multi-user-approval", "--soft-delete-days", "30")
	sa := asToken(remote, d.token("security-admin"))
	admin := asToken(remote, d.token("admin"))
	req := requestID(t, d, admin("vault", "set", "default", "--soft-delete-days", "14")...)
	eventually(t, 30*time.Second, "request "+req+" never showed as expired", func() bool {
		_, ok := approvals(t, d, sa, "expired")[req]
		return ok
	})
	if _, errOut, code := d.run(sa("approve", req)...); code == 0 || !strings.Contains(errOut, "expired") {
		t.Fatalf("an expired request was approved: exit %d %q", code, errOut)
	}
	var v map[string]any
	d.jsonOf(&v, "vault", "show", "default")
	if n := v["settings"].(map[string]any)["soft_delete_days"]; n != 30.0 {
		t.Fatalf("soft delete is %v days after an expired request, want 30", n)
	}
}

// TestE2EImpossibleRequestRefused: turning a locked immutability off is
// refused at once, never queued.
func TestE2EImpossibleRequestRefused(t *testing.T) {
	d, remote := tcpDaemon(t)
	d.must("vault", "set", "default", "--multi-user-approval", "--immutability", "locked")
	sa := asToken(remote, d.token("security-admin"))
	admin := asToken(remote, d.token("admin"))
	_, errOut, code := d.run(admin("vault", "set", "default", "--immutability", "off")...)
	if code == 0 || strings.Contains(errOut, "rewind approve") || !strings.Contains(errOut, "irreversible") {
		t.Fatalf("turning locked immutability off: exit %d %q, want a refusal at once", code, errOut)
	}
	if all := approvals(t, d, sa, ""); len(all) != 0 {
		t.Fatalf("an impossible request was queued: %v", all)
	}
}

// unixClient talks HTTP to the daemon's socket (for status codes and headers
// the CLI does not show).
func unixClient(socket string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", socket)
	}}}
}

// TestE2EUnlockAlwaysVerifies is finding 8: a wrong passphrase on an
// unlocked vault is exit 5, and guessing is rate-limited (429, Retry-After).
func TestE2EUnlockAlwaysVerifies(t *testing.T) {
	d := startDaemon(t, "")
	pf := d.createVault("prod")
	d.must("vault", "unlock", "prod", "--passphrase-file", pf)
	wrong := filepath.Join(d.dir, "wrong.pass")
	os.WriteFile(wrong, []byte("not it at all\n"), 0o600)
	for i := 0; i < 2; i++ {
		_, errOut, code := d.run("vault", "unlock", "prod", "--passphrase-file", wrong)
		if code != 5 || !strings.Contains(errOut, "passphrase does not unlock") {
			t.Fatalf("wrong passphrase on an unlocked vault: exit %d %q, want 5", code, errOut)
		}
	}
	d.must("vault", "unlock", "prod", "--passphrase-file", pf) // a success resets the count
	for i := 0; i < 3; i++ {
		if _, errOut, code := d.run("vault", "unlock", "prod", "--passphrase-file", wrong); code != 5 {
			t.Fatalf("wrong passphrase %d: exit %d %q", i+1, code, errOut)
		}
	}
	resp, err := unixClient(d.socket).Post("http://rewind/v1/vaults/prod/unlock", "application/json",
		strings.NewReader(`{"passphrase":"correct horse battery prod"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Code       string `json:"code"`
		RetryAfter int    `json:"retry_after"`
	}
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || e.RetryAfter < 1 {
		t.Fatalf("after 3 wrong passphrases: HTTP %d Retry-After %q body %+v, want 429 with a retry time", resp.StatusCode, resp.Header.Get("Retry-After"), e)
	}
	if _, errOut, code := d.run("vault", "unlock", "prod", "--passphrase-file", pf); code != 5 || !strings.Contains(errOut, "try again in") {
		t.Fatalf("while rate-limited: exit %d %q", code, errOut)
	}
}

// TestE2EScopedToken: a token confined to one vault sees and touches only
// that vault; everything else is not found; it cannot widen its scope.
func TestE2EScopedToken(t *testing.T) {
	d, remote := tcpDaemon(t)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src) // in "default"
	d.must("backup", "files")
	d.createVault("prod")
	d.must("item", "add", "pfiles", "--vault", "prod", "--share", src)
	var tok map[string]any
	d.jsonOf(&tok, "token", "create", "--role", "admin", "--vault", "prod")
	if fmt.Sprint(tok["vaults"]) != "[prod]" {
		t.Fatalf("token create answered %v", tok)
	}
	scoped := asToken(remote, tok["secret"].(string))
	var vaults, items, jobs []map[string]any
	d.jsonOf(&vaults, scoped("vault", "list")...)
	d.jsonOf(&items, scoped("item", "list")...)
	d.jsonOf(&jobs, scoped("jobs")...)
	if len(vaults) != 1 || vaults[0]["name"] != "prod" || len(items) != 1 || items[0]["name"] != "pfiles" {
		t.Fatalf("the prod token sees vaults %v items %v", vaults, items)
	}
	for _, j := range jobs {
		if j["vault"] != "prod" {
			t.Fatalf("the prod token sees a job of vault %v: %v", j["vault"], j)
		}
	}
	var all []map[string]any
	d.jsonOf(&all, "jobs")
	for _, args := range [][]string{
		{"vault", "show", "default"}, {"points", "files"}, {"item", "show", "files"},
		{"backup", "files"}, {"job", "show", fmt.Sprint(all[0]["id"])},
	} {
		if _, errOut, code := d.run(scoped(args...)...); code != 4 {
			t.Errorf("prod token: rewind %s: exit %d %q, want 4 (not found)", strings.Join(args, " "), code, errOut)
		}
	}
	for _, args := range [][]string{
		{"token", "create", "--role", "reader"}, {"token", "create", "--role", "reader", "--vault", "default"},
		{"vault", "create", "other", "--passphrase-file", filepath.Join(d.dir, "prod.pass")},
	} {
		if _, errOut, code := d.run(scoped(args...)...); code != 5 {
			t.Errorf("prod token: rewind %s: exit %d %q, want 5 (forbidden)", strings.Join(args, " "), code, errOut)
		}
	}
	d.must(scoped("backup", "pfiles")...)
	d.must(scoped("token", "create", "--role", "reader", "--vault", "prod")...)
}

// TestE2EPassphraseChangeNeedsApproval: a passphrase change waits for a
// security admin; a wrong current passphrase is refused at once.
func TestE2EPassphraseChangeNeedsApproval(t *testing.T) {
	d, remote := tcpDaemon(t)
	pf := d.createVault("prod")
	d.must("vault", "set", "prod", "--multi-user-approval")
	newPf := filepath.Join(d.dir, "new.pass")
	os.WriteFile(newPf, []byte("a brand new passphrase\n"), 0o600)
	wrong := filepath.Join(d.dir, "wrong.pass")
	os.WriteFile(wrong, []byte("not it at all\n"), 0o600)
	admin := asToken(remote, d.token("admin"))
	sa := asToken(remote, d.token("security-admin"))
	if _, errOut, code := d.run(admin("vault", "passphrase", "change", "prod", "--passphrase-file", wrong, "--new-passphrase-file", newPf)...); code != 5 {
		t.Fatalf("a wrong current passphrase: exit %d %q, want 5", code, errOut)
	}
	req := requestID(t, d, admin("vault", "passphrase", "change", "prod", "--passphrase-file", pf, "--new-passphrase-file", newPf)...)
	if all := approvals(t, d, sa, ""); len(all) != 1 {
		t.Fatalf("want exactly the one request, got %v", all)
	}
	out := d.must(sa("approvals", "show", req, "--json")...)
	if strings.Contains(out, "brand new") || strings.Contains(out, "correct horse") {
		t.Fatalf("a request shows a passphrase: %s", out)
	}
	d.must("vault", "unlock", "prod", "--passphrase-file", pf) // not changed yet
	d.must(sa("approve", req)...)
	d.must("vault", "unlock", "prod", "--passphrase-file", newPf)
	if _, errOut, code := d.run("vault", "unlock", "prod", "--passphrase-file", pf); code != 5 {
		t.Fatalf("the old passphrase after the change: exit %d %q, want 5", code, errOut)
	}
}

// TestE2ERestoreOverSourceNeedsApproval: a share restore overwriting the
// item's own source waits for a security admin, then runs as a job naming
// both principals; a restore elsewhere does not wait.
func TestE2ERestoreOverSourceNeedsApproval(t *testing.T) {
	d, remote := tcpDaemon(t)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	d.must("vault", "set", "default", "--multi-user-approval")
	admin := asToken(remote, d.token("admin"))
	sa := asToken(remote, d.token("security-admin"))
	d.must(admin("restore", "share", "files", "--point", "latest", "--to", filepath.Join(d.dir, "elsewhere"), "--conflict", "overwrite")...)
	req := requestID(t, d, admin("restore", "share", "files", "--point", "latest", "--original", "--conflict", "overwrite")...)
	d.must(sa("approve", req)...)
	eventually(t, 2*time.Minute, "the approved restore never completed", func() bool {
		var jobs []map[string]any
		d.jsonOf(&jobs, "jobs", "--item", "files")
		last := jobs[len(jobs)-1]
		return last["type"] == "restore" && last["status"] == "completed" &&
			strings.HasPrefix(fmt.Sprint(last["requested_by"]), "token:") && fmt.Sprint(last["approved_by"]) != "[]"
	})
}
