package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHooksAdminOnly reproduces issue 12 finding 1: a backup-operator adding
// an item with pre_freeze "id > FILE" had the daemon run it as root at the
// next backup, and readers saw hook commands verbatim. Now only admins set
// hooks (on add; there is no other way to change them), and only admins see
// them.
func TestHooksAdminOnly(t *testing.T) {
	roots := t.TempDir()
	m := accessDaemon(t, fmt.Sprintf("source_roots = [%q]", roots), "")
	share := filepath.Join(roots, "share")
	makeTree(t, share)
	pwned := filepath.Join(m.d.dir, "pwned")
	for _, role := range []string{"backup-operator", "restore-operator"} {
		for _, hook := range []string{"pre_freeze", "post_thaw"} {
			name := m.fresh("hooked")
			code, out := m.call(role, "POST", "/v1/vaults/default/items", map[string]any{"name": name, "share": share, hook: "id > " + pwned})
			if code != 403 || !strings.Contains(string(out), hook) || !strings.Contains(string(out), "admin") {
				t.Fatalf("%s adding an item with %s: %d %s, want 403 naming the field and who may set it", role, hook, code, out)
			}
			if code, _ := m.call("admin", "GET", "/v1/items/"+name, nil); code != 404 {
				t.Fatalf("the refused item %s exists (%d)", name, code)
			}
		}
	}
	// Without hooks the backup-operator adds and backs up; nothing ran.
	if code, out := m.call("backup-operator", "POST", "/v1/vaults/default/items", map[string]any{"name": "plain", "share": share}); code != 200 {
		t.Fatalf("backup-operator adding a plain item under source_roots: %d %s", code, out)
	}
	m.d.must("backup", "plain")
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("a hook given by a non-admin ran")
	}
	// An admin's hooks run, and are shown to admins only.
	secret := "s3cr3t-" + m.fresh("pw")
	marker := filepath.Join(m.d.dir, "hook-ran")
	body := map[string]any{"name": "db", "share": share,
		"pre_freeze": "echo " + secret + " > " + marker, "post_thaw": "true # " + secret}
	if code, out := m.call("admin", "POST", "/v1/vaults/default/items", body); code != 200 || !strings.Contains(string(out), secret) {
		t.Fatalf("admin adding an item with hooks: %d %s", code, out)
	}
	if code, out := m.call("backup-operator", "POST", "/v1/items/db/backup", map[string]any{}); code != 200 {
		t.Fatalf("backup-operator backing up an existing item: %d %s", code, out)
	}
	eventually(t, time.Minute, "the admin's pre_freeze hook never ran", func() bool {
		_, err := os.Stat(marker)
		return err == nil
	})
	for _, role := range []string{"reader", "backup-operator", "restore-operator", "security-admin"} {
		for _, path := range []string{"/v1/items/db", "/v1/items"} {
			code, out := m.call(role, "GET", path, nil)
			if code != 200 || strings.Contains(string(out), secret) || !strings.Contains(string(out), "(set; visible to admins)") {
				t.Errorf("%s GET %s: %d, the hooks must be replaced by \"(set; visible to admins)\": %s", role, path, code, out)
			}
		}
	}
	_, out := m.call("admin", "GET", "/v1/items/db", nil)
	var it map[string]any
	if json.Unmarshal(out, &it); it["pre_freeze"] != body["pre_freeze"] || it["post_thaw"] != body["post_thaw"] {
		t.Errorf("an admin must see the hooks as set: %s", out)
	}
	// A failing hook's command does not leak through the point's reason or
	// the job's warnings either.
	failing := map[string]any{"name": "db2", "share": share, "pre_freeze": "echo flush failed >&2; exit 3 # " + secret}
	if code, out := m.call("admin", "POST", "/v1/vaults/default/items", failing); code != 200 {
		t.Fatalf("admin adding an item with a failing hook: %d %s", code, out)
	}
	// A failing pre-freeze completes with warnings (exit 3), naming the reason.
	if out, errOut, code := m.d.run("backup", "db2"); code != 3 || strings.Contains(out+errOut, secret) {
		t.Fatalf("backup with a failing pre-freeze: exit %d, want 3 and no hook command in %q %q", code, out, errOut)
	}
	for path, why := range map[string]string{"/v1/items/db2/points": "exit status 3", "/v1/jobs?item=db2": ""} {
		code, out := m.call("reader", "GET", path, nil)
		if code != 200 || strings.Contains(string(out), secret) || !strings.Contains(string(out), why) {
			t.Errorf("reader GET %s: %d: the hook's error but not its command should show: %s", path, code, out)
		}
	}
}

// TestSourceRoots: backup-operators add only path sources that resolve
// under source_roots; NBD sources, changed-block lists and fsfreeze are
// admin-only; with no source_roots configured nobody but admins adds items.
func TestSourceRoots(t *testing.T) {
	roots := t.TempDir()
	m := accessDaemon(t, fmt.Sprintf("source_roots = [%q]", roots), "")
	outside := filepath.Join(m.d.dir, "outside")
	makeTree(t, outside)
	disk := filepath.Join(roots, "disk.raw")
	if err := os.WriteFile(disk, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	escape := filepath.Join(roots, "escape")
	if err := os.Symlink(outside, escape); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		what string
		body map[string]any
		want []string // in the 403 message
	}{
		{"a share outside source_roots", map[string]any{"share": outside}, []string{outside, "source_roots"}},
		{"a symlink under a root to a share outside", map[string]any{"share": escape}, []string{outside, "source_roots"}},
		{"a disk outside source_roots", map[string]any{"disk": "/etc/hostname"}, []string{"/etc/hostname", "source_roots"}},
		{"a relative share path", map[string]any{"share": "share"}, []string{"absolute"}},
		{"an NBD source", map[string]any{"disk": "nbd://127.0.0.1:10809/x"}, []string{"admin-only"}},
		{"a changed-block list", map[string]any{"disk": disk, "changed_blocks": "/etc/shadow"}, []string{"changed_blocks"}},
		{"fsfreeze", map[string]any{"share": roots, "fsfreeze": true}, []string{"fsfreeze"}},
	}
	for _, c := range cases {
		c.body["name"] = m.fresh("src")
		code, out := m.call("backup-operator", "POST", "/v1/vaults/default/items", c.body)
		if code != 403 {
			t.Errorf("%s: %d %s, want 403", c.what, code, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: the refusal should name %q: %s", c.what, w, out)
			}
		}
	}
	// Under a root: allowed, and the item records the resolved path.
	link := filepath.Join(roots, "disk-link")
	os.Symlink(disk, link)
	code, out := m.call("backup-operator", "POST", "/v1/vaults/default/items", map[string]any{"name": "d1", "disk": link})
	var it map[string]any
	if json.Unmarshal(out, &it); code != 200 || it["source_str"] != disk {
		t.Fatalf("a disk under source_roots through a symlink: %d %s, want the resolved path %s recorded", code, out, disk)
	}
	// The same refusals do not apply to admins.
	if code, out := m.call("admin", "POST", "/v1/vaults/default/items", map[string]any{"name": "adm", "share": outside}); code != 200 {
		t.Fatalf("admin adding a share outside source_roots: %d %s", code, out)
	}
	// changed_blocks on a backup is admin-only too.
	if code, out := m.call("backup-operator", "POST", "/v1/items/d1/backup", map[string]any{"changed_blocks": "/etc/shadow"}); code != 403 {
		t.Fatalf("backup-operator backup with changed_blocks: %d %s", code, out)
	}
}

// TestNoSourceRootsNoOperatorItems: with source_roots empty (the default)
// only admins add items.
func TestNoSourceRootsNoOperatorItems(t *testing.T) {
	m := accessDaemon(t, "", "")
	share := filepath.Join(m.d.dir, "share")
	makeTree(t, share)
	code, out := m.call("restore-operator", "POST", "/v1/vaults/default/items", map[string]any{"name": "x", "share": share})
	if code != 403 || !strings.Contains(string(out), "no source_roots are configured") {
		t.Fatalf("an operator adding an item without source_roots: %d %s", code, out)
	}
}

// TestReaderCannotMount reproduces the role half of issue 12 finding 4: a
// reader token mounted over any host directory (hiding it) and unmounted
// anyone's mount. Mounts now need restore-operator.
func TestReaderCannotMount(t *testing.T) {
	need(t, "fusermount3")
	m := accessDaemon(t, "", "")
	share := filepath.Join(m.d.dir, "share")
	makeTree(t, share)
	m.d.must("item", "add", "files", "--share", share)
	m.d.must("backup", "files")
	victim := filepath.Join(m.d.dir, "victim")
	os.Mkdir(victim, 0o755)
	os.WriteFile(filepath.Join(victim, "keep"), []byte("x"), 0o644)
	for _, role := range []string{"reader", "backup-operator"} {
		code, out := m.call(role, "POST", "/v1/mounts", map[string]any{"mountpoint": victim, "item": "files"})
		if code != 403 || !strings.Contains(string(out), "restore-operator") {
			t.Fatalf("%s mounting over %s: %d %s, want 403 naming restore-operator", role, victim, code, out)
		}
		if _, err := os.Stat(filepath.Join(victim, "keep")); err != nil {
			t.Fatalf("after a refused mount the directory's content is hidden: %v", err)
		}
	}
	mp := m.mountAs("admin")
	for _, role := range []string{"reader", "backup-operator"} {
		if code, out := m.call(role, "DELETE", "/v1/mounts?path="+mp, nil); code != 403 {
			t.Fatalf("%s unmounting an admin's mount: %d %s, want 403", role, code, out)
		}
	}
	_, out := m.call("reader", "GET", "/v1/mounts", nil)
	if !strings.Contains(string(out), mp) {
		t.Fatalf("the admin's mount is gone after refused unmounts: %s", out)
	}
}
