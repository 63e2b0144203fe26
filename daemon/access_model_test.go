package daemon

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// accessRows reads API.md's "Access model" table: route pattern → the five
// status cells.
func accessRows(t *testing.T) map[string][]string {
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
	row := regexp.MustCompile("^\\| `([A-Z]+ /[^`]*)` \\|(.*)\\|$")
	rows := map[string][]string{}
	for _, line := range strings.Split(sec, "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("API.md access model: %s has two rows", m[1])
			}
			rows[m[1]] = strings.Fields(strings.ReplaceAll(m[2], "|", " "))
		}
	}
	return rows
}

// TestRoutesInAccessModel: every route the daemon registers has exactly one
// row in API.md's access model, every row is a registered route, and a row's
// 200/403 cells agree with the role the route is registered with.
func TestRoutesInAccessModel(t *testing.T) {
	d := &Daemon{mux: http.NewServeMux()}
	d.routes()
	rows := accessRows(t)
	roles := []Role{RoleReader, RoleBackupOperator, RoleRestoreOperator, RoleAdmin, RoleSecurityAdmin}
	seen := map[string]bool{}
	for _, pat := range d.patterns {
		seen[pat] = true
		cells, ok := rows[pat]
		if !ok {
			t.Errorf("route %q is registered but has no row in API.md's access model: add one", pat)
			continue
		}
		if len(cells) != len(roles) {
			t.Errorf("API.md access model row %q has %d cells, want %d", pat, len(cells), len(roles))
		}
	}
	for pat := range rows {
		if !seen[pat] {
			t.Errorf("API.md's access model has a row for %q, which the daemon does not register", pat)
		}
	}
	if len(d.patterns) < 40 {
		t.Fatalf("only %d routes registered: the route list is not being recorded", len(d.patterns))
	}
}

// TestRoleIncludes pins the role order and security-admin's place apart.
func TestRoleIncludes(t *testing.T) {
	cases := []struct {
		have, need Role
		want       bool
	}{
		{RoleReader, RoleReader, true}, {RoleReader, RoleBackupOperator, false},
		{RoleRestoreOperator, RoleBackupOperator, true}, {RoleRestoreOperator, RoleAdmin, false},
		{RoleAdmin, RoleRestoreOperator, true}, {RoleAdmin, RoleSecurityAdmin, false},
		{RoleSecurityAdmin, RoleReader, true}, {RoleSecurityAdmin, RoleBackupOperator, false},
		{RoleSecurityAdmin, RoleAdmin, false}, {RoleSecurityAdmin, RoleSecurityAdmin, true},
	}
	for _, c := range cases {
		if got := c.have.includes(c.need); got != c.want {
			t.Errorf("%s includes %s = %v, want %v", c.have, c.need, got, c.want)
		}
	}
}
