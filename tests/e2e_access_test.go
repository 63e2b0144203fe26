package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their paths.
func selfSigned(t testing.TB, dir string) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rewind test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, keyFile
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// tcpDaemon starts a daemon with the TLS API on and returns it and the
// client flags for it; extra are top-level config lines.
func tcpDaemon(t *testing.T, extra ...string) (*daemonProc, []string) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	top := strings.Join(extra, "\n") + "\n"
	d := startDaemon(t, top+fmt.Sprintf("[tcp]\nlisten = %q\ncert = %q\nkey = %q\n", addr, cert, key))
	return d, []string{"--url", "https://" + addr, "--ca", cert}
}

func (d *daemonProc) token(role string) string {
	d.t.Helper()
	var tok map[string]any
	d.jsonOf(&tok, "token", "create", "--role", role)
	return tok["secret"].(string)
}

// TestTokenRoles checks the 401/403/200 matrix of the TCP API.
func TestTokenRoles(t *testing.T) {
	// The test's temporary root holds the daemon's directory: restore-operators restore there.
	d, remote := tcpDaemon(t, fmt.Sprintf("restore_roots = [%q]", filepath.Dir(t.TempDir())))
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	tokens := map[string]string{"": ""}
	for _, role := range []string{"reader", "backup-operator", "restore-operator", "admin"} {
		tokens[role] = d.token(role)
	}
	restoreTo := filepath.Join(d.dir, "r")
	cases := []struct {
		args  []string
		allow map[string]bool
	}{
		{[]string{"points", "files"}, map[string]bool{"reader": true, "backup-operator": true, "restore-operator": true, "admin": true}},
		{[]string{"backup", "files"}, map[string]bool{"backup-operator": true, "restore-operator": true, "admin": true}},
		{[]string{"restore", "share", "files", "--point", "latest", "--to", restoreTo, "--conflict", "rename"}, map[string]bool{"restore-operator": true, "admin": true}},
		{[]string{"token", "list"}, map[string]bool{"admin": true}},
	}
	for _, c := range cases {
		for role, secret := range tokens {
			args := append(append([]string{}, remote...), c.args...)
			if secret != "" {
				args = append(args, "--token", secret)
			}
			_, errOut, code := d.run(args...)
			want := 5
			if c.allow[role] {
				want = 0
			}
			if code != want {
				t.Errorf("role %q: rewind %s: exit %d (%s), want %d", role, strings.Join(c.args, " "), code, errOut, want)
			}
			if role == "" && !strings.Contains(errOut, "no credentials") {
				t.Errorf("without a token the error should say so: %q", errOut)
			}
		}
	}
	if out := d.must("token", "list"); strings.Contains(out, tokens["admin"]) {
		t.Error("token list must never show a secret")
	}
}

// TestApprovalFlow: with multi-user approval on, an admin's stop-with-delete
// waits for a security admin independent of it; the requester cannot approve.
func TestApprovalFlow(t *testing.T) {
	d, remote := tcpDaemon(t)
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	d.must("vault", "set", "default", "--multi-user-approval")
	admin := asToken(remote, d.token("admin"))
	d.must(admin("policy", "set", "default", "--keep-daily", "60")...) // lengthening needs no approval
	if _, errOut, code := d.run(admin("policy", "set", "default", "--keep-daily", "7")...); code == 0 || !strings.Contains(errOut, "rewind approve") {
		t.Fatalf("shortening retention should wait for approval: exit %d %q", code, errOut)
	}
	_, errOut, code := d.run(admin("item", "stop", "files", "--delete-data")...)
	m := regexp.MustCompile(`rewind approve (\S+)"`).FindStringSubmatch(errOut)
	if code == 0 || m == nil {
		t.Fatalf("stop --delete-data should wait for approval: exit %d %q", code, errOut)
	}
	req := m[1]
	if _, errOut, code := d.run(admin("approve", req)...); code != 5 {
		t.Fatalf("the requester approved their own request: exit %d %q", code, errOut)
	}
	approver := asToken(remote, d.token("security-admin"))
	d.must(approver("approve", req)...)
	var item map[string]any
	d.jsonOf(&item, "item", "show", "files")
	if item["state"] != "protection-stopped-deleted" {
		t.Fatalf("after approval the item is %v", item["state"])
	}
	var jobs []map[string]any
	d.jsonOf(&jobs, "jobs", "--item", "files")
	last := jobs[len(jobs)-1]
	if !strings.HasPrefix(fmt.Sprint(last["requested_by"]), "token:") || fmt.Sprint(last["approved_by"]) == "[]" || last["approved_by"] == nil {
		t.Fatalf("the job must name both principals: %v", last)
	}
}

// TestThrottle: a 10 MB backup at 5 MB/s takes at least 2 seconds.
func TestThrottle(t *testing.T) {
	d := startDaemon(t, "")
	disk := filepath.Join(d.dir, "disk.raw")
	buf := make([]byte, 10_000_000)
	rand.Read(buf)
	os.WriteFile(disk, buf, 0o644)
	d.must("vault", "set", "default", "--off-hours-rate", "5MB/s", "--work-hours-rate", "5MB/s")
	if _, errOut, code := d.run("vault", "set", "default", "--off-hours-rate", "100Kbit/s"); code != 2 || !strings.Contains(errOut, "512 Kbit/s") {
		t.Errorf("a rate below the range: exit %d %q", code, errOut)
	}
	d.must("item", "add", "d2", "--disk", disk)
	start := time.Now()
	d.must("backup", "d2")
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("10 MB at 5 MB/s took %v, want ≥ 2s", took)
	}
	// An item's own limit overrides the vault's.
	d.must("vault", "set", "default", "--off-hours-rate", "unlimited", "--work-hours-rate", "unlimited")
	d.must("item", "add", "d3", "--disk", disk, "--off-hours-rate", "4MB/s", "--work-hours-rate", "4MB/s")
	start = time.Now()
	d.must("backup", "d3")
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("10 MB at the item's 4 MB/s took %v, want ≥ 2s", took)
	}
	// Shard writes keep to the vault's rate even when the item reads its
	// source unthrottled: 6 MB of new random data is ~9 MB of shards.
	d.must("vault", "set", "default", "--off-hours-rate", "3MB/s", "--work-hours-rate", "3MB/s")
	disk2 := filepath.Join(d.dir, "disk2.raw")
	buf2 := make([]byte, 6_000_000)
	rand.Read(buf2)
	os.WriteFile(disk2, buf2, 0o644)
	d.must("item", "add", "d4", "--disk", disk2, "--off-hours-rate", "unlimited", "--work-hours-rate", "unlimited")
	start = time.Now()
	d.must("backup", "d4")
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("9 MB of shards at the vault's 3 MB/s took %v, want ≥ 2s", took)
	}
}
