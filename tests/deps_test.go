package tests

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/rewind-backup/rewind"

// allowed lists, for each package of ours, which of our packages it may import
// (docs/DESIGN.md: cmd → daemon → {vault, fsmount, vmdisk, fileshare, policy} → blockstore).
var allowed = map[string][]string{
	"blockstore": {},
	"policy":     {},
	"pathsafe":   {},
	"vault":      {"blockstore", "policy"},
	"vmdisk":     {"blockstore"},
	"fileshare":  {"blockstore"},
	"fsmount":    {"blockstore", "vmdisk", "fileshare", "pathsafe"},
	"seed":       {"blockstore", "vmdisk", "fileshare"},
	"daemon":     {"blockstore", "policy", "vault", "vmdisk", "fileshare", "fsmount", "pathsafe", "seed"},
}

// TestDependencyDirection fails when a package imports one of ours that sits
// above it in the layering.
func TestDependencyDirection(t *testing.T) {
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "./../"+pkg+"/...").CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if !strings.HasPrefix(dep, module+"/") {
				continue
			}
			top := strings.SplitN(strings.TrimPrefix(dep, module+"/"), "/", 2)[0]
			if top == pkg || contains(ok, top) {
				continue
			}
			t.Errorf("%s depends on %s; docs/DESIGN.md allows only %v", pkg, dep, ok)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
