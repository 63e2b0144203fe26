package tests

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// matrixRoles are the columns of API.md's access model, in order.
var matrixRoles = []string{"reader", "backup-operator", "restore-operator", "admin", "security-admin"}

// accessRow is one row of API.md's "Access model" table.
type accessRow struct {
	pattern string // "METHOD /path" exactly as daemon/routes.go registers it
	status  map[string]int
}

// readAccessModel parses the table from API.md (not from the daemon).
func readAccessModel(t *testing.T) []accessRow {
	t.Helper()
	b, err := os.ReadFile("../API.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Access model\n")
	if !ok {
		t.Fatal(`API.md has no "## Access model" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	re := regexp.MustCompile("^\\| `([A-Z]+ /[^`]*)` \\|(.*)\\|$")
	var rows []accessRow
	for _, line := range strings.Split(sec, "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		cells := strings.Fields(strings.ReplaceAll(m[2], "|", " "))
		if len(cells) != len(matrixRoles) {
			t.Fatalf("API.md access model row %q: %d cells, want %d", m[1], len(cells), len(matrixRoles))
		}
		row := accessRow{pattern: m[1], status: map[string]int{}}
		for i, c := range cells {
			n, err := strconv.Atoi(c)
			if err != nil {
				t.Fatalf("API.md access model row %q: cell %q is not a status", m[1], c)
			}
			row.status[matrixRoles[i]] = n
		}
		rows = append(rows, row)
	}
	if len(rows) < 40 {
		t.Fatalf("API.md access model: only %d rows parsed", len(rows))
	}
	return rows
}

// matrix is a daemon with the TLS API on, one token per role, and the
// objects the requests of the access-model test use.
type matrix struct {
	t       *testing.T
	d       *daemonProc
	base    string
	addr    string
	tls     *tls.Config
	client  *http.Client
	tokens  map[string]string
	n       int
	share   string // under source_roots
	seed    string // a seed "seed create" made of the share of item "files"
	attach  map[string]any
	jobID   string
	slowSrc string
	rows    []accessRow
	work    string // restore_roots and mount_root: where fresh targets go
}

// accessDaemon starts a daemon with TLS on, extra config text (top-level
// keys) and tcpExtra (keys of [tcp]), and returns the matrix around it.
func accessDaemon(t *testing.T, extra, tcpExtra string) *matrix {
	dir, work := t.TempDir(), t.TempDir()
	cert, key := selfSigned(t, dir)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d := startDaemon(t, fmt.Sprintf("restore_roots = [%q]\nmount_root = %q\n%s\n[tcp]\nlisten = %q\ncert = %q\nkey = %q\n%s\n",
		work, work, extra, addr, cert, key, tcpExtra))
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	m := &matrix{t: t, d: d, base: "https://" + addr, addr: addr, tls: &tls.Config{RootCAs: pool}, client: client, tokens: map[string]string{}, work: work}
	for _, role := range matrixRoles {
		m.tokens[role] = d.token(role)
	}
	return m
}

// call sends method path with body (nil: none) as role and returns the
// status and reply.
func (m *matrix) call(role, method, path string, body any) (int, []byte) {
	m.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			m.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.base+path, rd)
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+m.tokens[role])
	resp, err := m.client.Do(req)
	if err != nil {
		m.t.Fatalf("%s %s as %s: %v", method, path, role, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (m *matrix) fresh(prefix string) string {
	m.n++
	return fmt.Sprintf("%s%d", prefix, m.n)
}

// freshDir is a new path under m.work (restore_roots, mount_root); made says whether
// it exists (empty) or is only a name.
func (m *matrix) freshDir(made bool) string {
	p := filepath.Join(m.work, m.fresh("dir"))
	if made {
		if err := os.Mkdir(p, 0o755); err != nil {
			m.t.Fatal(err)
		}
	}
	return p
}

// item adds a fresh share item to vault (root on the socket) and returns it.
func (m *matrix) item(vaultName string) string {
	name := m.fresh("item")
	m.d.must("item", "add", name, "--vault", vaultName, "--share", m.share)
	return name
}

// request is a valid request for one route, made for the role about to
// send it (a fresh object where the call consumes one).
type request struct {
	path string
	body any
}

func post(path string, body any) func(string) request {
	return func(string) request { return request{path: path, body: body} }
}

// fixtures gives a valid request for every route of the access model.
func (m *matrix) fixtures() map[string]func(role string) request {
	get := func(p string) func(string) request { return func(string) request { return request{path: p} } }
	post := func(p string, body any) func(string) request {
		return func(string) request { return request{path: p, body: body} }
	}
	return map[string]func(string) request{
		"GET /v1/status":     get("/v1/status"),
		"POST /v1/log-level": post("/v1/log-level", map[string]any{"level": "debug"}),
		"GET /v1/vaults":     get("/v1/vaults"),
		"POST /v1/vaults": func(string) request {
			return request{"/v1/vaults", map[string]any{"name": m.fresh("v"), "passphrase": "a long enough passphrase"}}
		},
		"POST /v1/vaults/attach":                   post("/v1/vaults/attach", m.attach),
		"GET /v1/vaults/{vault}":                   get("/v1/vaults/default"),
		"PATCH /v1/vaults/{vault}":                 post("/v1/vaults/default", map[string]any{"soft_delete_days": 21}),
		"POST /v1/vaults/{vault}/unlock":           post("/v1/vaults/acc/unlock", map[string]any{"passphrase": "correct horse battery acc"}),
		"POST /v1/vaults/{vault}/key-export":       post("/v1/vaults/default/key-export", nil),
		"GET /v1/vaults/{vault}/usage":             get("/v1/vaults/default/usage"),
		"POST /v1/vaults/{vault}/verify":           m.maintenance("verify"),
		"POST /v1/vaults/{vault}/gc":               m.maintenance("gc"),
		"POST /v1/vaults/{vault}/repair":           m.maintenance("repair"),
		"POST /v1/vaults/{vault}/benchmark":        post("/v1/vaults/default/benchmark", nil),
		"GET /v1/vaults/{vault}/policies":          get("/v1/vaults/default/policies"),
		"POST /v1/vaults/{vault}/policies":         func(string) request { return request{"/v1/vaults/default/policies", m.policyBody(m.fresh("pol"))} },
		"GET /v1/vaults/{vault}/policies/{policy}": get("/v1/vaults/default/policies/default"),
		"PATCH /v1/vaults/{vault}/policies/{policy}": func(string) request {
			return request{"/v1/vaults/default/policies/" + m.policy(), map[string]any{"keep_daily": "40"}}
		},
		"DELETE /v1/vaults/{vault}/policies/{policy}": func(string) request { return request{"/v1/vaults/default/policies/" + m.policy(), nil} },
		"POST /v1/vaults/{vault}/items": func(string) request {
			return request{"/v1/vaults/default/items", map[string]any{"name": m.fresh("added"), "share": m.share}}
		},
		"GET /v1/items":                func(string) request { return request{"/v1/items", nil} },
		"GET /v1/items/{item}":         get("/v1/items/files"),
		"GET /v1/items/{item}/points":  get("/v1/items/files/points"),
		"POST /v1/items/{item}/backup": func(string) request { return request{"/v1/items/" + m.item("default") + "/backup", map[string]any{}} },
		"POST /v1/items/{item}/restore": func(string) request {
			return request{"/v1/items/files/restore", map[string]any{"kind": "share", "point": "latest", "to": m.freshDir(false), "conflict": "rename"}}
		},
		"PATCH /v1/items/{item}": func(string) request {
			return request{"/v1/items/" + m.item("default"), map[string]any{"work_hours_rate": "50MB/s", "pre_freeze": "/bin/true"}}
		},
		"POST /v1/items/{item}/stop": func(string) request {
			return request{"/v1/items/" + m.item("default") + "/stop", map[string]any{"delete_data": false}}
		},
		"POST /v1/items/{item}/resume": func(string) request {
			name := m.item("default")
			m.d.must("item", "stop", name)
			return request{"/v1/items/" + name + "/resume", nil}
		},
		"POST /v1/items/{item}/undelete": func(string) request {
			name := m.item("default")
			m.d.must("item", "stop", name, "--delete-data")
			return request{"/v1/items/" + name + "/undelete", nil}
		},
		"POST /v1/vaults/{vault}/seed-import": func(string) request {
			return request{"/v1/vaults/default/seed-import", map[string]any{"dir": m.seed, "item": m.fresh("seeded"), "seed_passphrase": matrixSeedPass}}
		},
		"GET /v1/jobs":                    get("/v1/jobs"),
		"GET /v1/jobs/{id}":               func(string) request { return request{"/v1/jobs/" + m.jobID, nil} },
		"POST /v1/jobs/{id}/cancel":       func(string) request { return request{"/v1/jobs/" + m.slowJob() + "/cancel", nil} },
		"GET /v1/mounts":                  get("/v1/mounts"),
		"POST /v1/mounts":                 func(string) request { return request{"/v1/mounts", m.mountBody()} },
		"DELETE /v1/mounts":               func(role string) request { return request{"/v1/mounts?path=" + url.QueryEscape(m.mountAs(role)), nil} },
		"GET /v1/tokens":                  get("/v1/tokens"),
		"POST /v1/tokens":                 post("/v1/tokens", map[string]any{"role": "reader"}),
		"DELETE /v1/tokens/{id}":          func(string) request { return request{"/v1/tokens/" + m.tokenID(), nil} },
		"GET /v1/approvals":               get("/v1/approvals"),
		"GET /v1/approvals/{id}":          func(string) request { return request{"/v1/approvals/" + m.pendingApproval(), nil} },
		"POST /v1/approvals/{id}/approve": func(string) request { return request{"/v1/approvals/" + m.pendingApproval() + "/approve", nil} },
		"POST /v1/approvals/{id}/reject": func(string) request {
			return request{"/v1/approvals/" + m.pendingApproval() + "/reject", map[string]any{"reason": "not now"}}
		},
		"POST /v1/vaults/{vault}/passphrase": func(string) request {
			name := m.fresh("pp")
			m.d.createVault(name)
			return request{"/v1/vaults/" + name + "/passphrase", map[string]any{"old": "correct horse battery " + name, "new": "another long passphrase " + name}}
		},
	}
}

// maintenance asks for a verify, gc or repair of a vault of its own (they
// exclude each other within a vault).
func (m *matrix) maintenance(kind string) func(string) request {
	return post("/v1/vaults/m-"+kind+"/"+kind, map[string]any{})
}

func (m *matrix) policyBody(name string) map[string]any {
	return map[string]any{"name": name, "daily": "22:30", "keep_daily": "30"}
}

// policy creates a fresh policy in the default vault.
func (m *matrix) policy() string {
	name := m.fresh("pol")
	m.d.must("policy", "create", name, "--daily", "22:30", "--keep-daily", "30")
	return name
}

func (m *matrix) tokenID() string {
	var tok map[string]any
	m.d.jsonOf(&tok, "token", "create", "--role", "reader")
	return tok["id"].(string)
}

func (m *matrix) mountBody() map[string]any {
	return map[string]any{"mountpoint": m.freshDir(true), "item": "files", "expire": "10m"}
}

// mountAs makes a mount for role to unmount: made with role's own token
// when API.md lets role mount (an operator unmounts its own mounts), else
// by an admin.
func (m *matrix) mountAs(role string) string {
	maker := "admin"
	if m.allowed("POST /v1/mounts", role) {
		maker = role
	}
	body := m.mountBody()
	if code, out := m.call(maker, "POST", "/v1/mounts", body); code != 200 {
		m.t.Fatalf("mount as %s: %d %s", maker, code, out)
	}
	return body["mountpoint"].(string)
}

// slowJob starts a backup that runs for minutes (vault "slow" is throttled)
// and returns its job id.
func (m *matrix) slowJob() string {
	name := m.fresh("slow")
	m.d.must("item", "add", name, "--vault", "slow", "--disk", m.slowSrc)
	var job map[string]any
	m.d.jsonOf(&job, "backup", name, "--vault", "slow", "--no-wait")
	return job["id"].(string)
}

// pendingApproval has an admin token ask to stop-and-delete a fresh item of
// vault "mua" and returns the approval request it got.
func (m *matrix) pendingApproval() string {
	name := m.item("mua")
	code, out := m.call("admin", "POST", "/v1/items/"+name+"/stop?vault=mua", map[string]any{"delete_data": true})
	var e struct{ Request string }
	if json.Unmarshal(out, &e); code != 202 || e.Request == "" {
		m.t.Fatalf("stop --delete-data in a vault with approvals: %d %s", code, out)
	}
	return e.Request
}

func (m *matrix) allowed(pattern, role string) bool {
	for _, r := range m.rows {
		if r.pattern == pattern {
			return r.status[role] < 300
		}
	}
	return false
}

// matrixSeedPass is the seed passphrase of the matrix's seed.
const matrixSeedPass = "matrix seed passphrase"

// setup makes what the fixtures use: item "files" backed up, a seed, a
// locked-then-unlocked vault "acc", a throttled vault "slow", a vault "mua"
// with multi-user approval, and shard targets of a vault to attach.
func (m *matrix) setup(sourceRoot string) {
	m.share = filepath.Join(sourceRoot, "share")
	makeTree(m.t, m.share)
	m.d.must("item", "add", "files", "--share", m.share)
	var job map[string]any
	m.d.jsonOf(&job, "backup", "files")
	m.jobID = job["id"].(string)
	m.seed = filepath.Join(m.d.dir, "seed")
	if out, errOut, code := m.d.runEnv([]string{"REWIND_SEED_PASSPHRASE=" + matrixSeedPass}, "seed", "create", "--share", m.share, "--to", m.seed); code != 0 {
		m.t.Fatalf("seed create: exit %d %s %s", code, out, errOut)
	}
	m.d.createVault("acc")
	m.d.createVault("slow")
	m.d.must("vault", "set", "slow", "--off-hours-rate", "512Kbit/s", "--work-hours-rate", "512Kbit/s")
	m.slowSrc = filepath.Join(m.d.dir, "slow.raw")
	buf := make([]byte, 16<<20)
	rand.Read(buf)
	if err := os.WriteFile(m.slowSrc, buf, 0o644); err != nil {
		m.t.Fatal(err)
	}
	for _, kind := range []string{"verify", "gc", "repair"} {
		m.d.createVault("m-" + kind)
	}
	m.d.createVault("mua")
	m.d.must("vault", "set", "mua", "--multi-user-approval")
	m.attach = attachableVault(m.t)
}

// attachableVault creates vault "far" on another daemon, stops it, and
// returns the attach request for its shard targets.
func attachableVault(t *testing.T) map[string]any {
	other := startDaemon(t, "")
	specs := make([]string, 6)
	for i := range specs {
		specs[i] = filepath.Join(other.dir, "shards", fmt.Sprint(i))
	}
	pf := filepath.Join(other.dir, "far.pass")
	os.WriteFile(pf, []byte("a long enough passphrase\n"), 0o600)
	other.must("vault", "create", "far", "--shards", strings.Join(specs, ","), "--passphrase-file", pf)
	src := filepath.Join(other.dir, "share")
	makeTree(t, src)
	other.must("item", "add", "far-files", "--vault", "far", "--share", src)
	other.must("backup", "far-files", "--vault", "far")
	if err := other.kill(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The stopped daemon's owner lease stays live for minutes: take over.
	return map[string]any{"name": "far", "shards": specs, "passphrase": "a long enough passphrase", "takeover": true}
}

// TestAccessMatrix calls every route of API.md's access model with a token
// of every role and a valid request, and asserts the status the table gives
// (and 401 without a token).
func TestAccessMatrix(t *testing.T) {
	need(t, "fusermount3")
	roots := t.TempDir()
	m := accessDaemon(t, fmt.Sprintf("source_roots = [%q]", roots), "")
	m.rows = readAccessModel(t)
	m.setup(roots)
	fx := m.fixtures()
	for _, row := range m.rows {
		build, ok := fx[row.pattern]
		if !ok {
			t.Errorf("API.md route %q has no request in this test: add one to fixtures", row.pattern)
			continue
		}
		method, _, _ := strings.Cut(row.pattern, " ")
		if code, out := m.call("", method, build("reader").path, nil); code != 401 {
			t.Errorf("%s without a token: %d %s, want 401", row.pattern, code, bytes.TrimSpace(out))
		}
		for _, role := range matrixRoles {
			req := build(role)
			code, out := m.call(role, method, req.path, req.body)
			if want := row.status[role]; code != want {
				t.Errorf("%s as %s (%s): %d %s, API.md says %d", row.pattern, role, req.path, code, bytes.TrimSpace(out), want)
			}
		}
	}
}
