package fileshare

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func hasWarning(ws []string, parts ...string) bool {
	for _, w := range ws {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestFileChangedWhileRead(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "once"), make([]byte, 3<<20), 0o644)
	writeFile(t, filepath.Join(src, "always"), make([]byte, 2<<20), 0o644)
	writeFile(t, filepath.Join(src, "calm"), make([]byte, 2<<20), 0o644)
	appendTo := func(p string) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		must(t, err)
		_, err = f.Write([]byte("more data\n"))
		must(t, err)
		must(t, f.Close())
	}
	calls := map[string]int{}
	hook := func(path string) { // runs in reader goroutines
		switch path {
		case "once":
			if calls[path] == 0 {
				appendTo(filepath.Join(src, path))
			}
		case "always":
			appendTo(filepath.Join(src, path))
		}
		calls[path]++
	}
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{Workers: 1, testHookRead: hook})
	if calls["once"] != 2 || calls["always"] != 2 || calls["calm"] != 1 {
		t.Fatalf("reads per file: %v (want a re-read of each changed file)", calls)
	}
	if !hasWarning(res.Warnings, "always", "changed while being read") || len(res.Warnings) != 1 {
		t.Fatalf("warnings %q: want one naming \"always\"", res.Warnings)
	}
	tr, err := OpenTree(ctx, s, res.Root)
	must(t, err)
	n, err := tr.Lookup(ctx, "once")
	must(t, err)
	if n.Size != 3<<20+10 {
		t.Fatalf("once recorded with %d bytes, want the re-read's %d", n.Size, 3<<20+10)
	}
}

// TestVanishedFileWarnsAndSocketIsKept: a file deleted during the backup is
// a warning; a socket is recorded (format v2) as a socket.
func TestVanishedFileWarnsAndSocketIsKept(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "vanish", "gone"), []byte("soon deleted"), 0o644)
	writeFile(t, filepath.Join(src, "vanish", "stays"), []byte("kept"), 0o644)
	l := listenSocket(t, filepath.Join(src, "sock"))
	defer l.Close()
	hook := func(path string) {
		if path == "vanish" {
			must(t, os.Remove(filepath.Join(src, "vanish", "gone")))
		}
	}
	s := newStore(t)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{testHookDir: hook})
	if !hasWarning(res.Warnings, "vanish/gone", "vanished") {
		t.Fatalf("warnings %q: want vanish/gone", res.Warnings)
	}
	tr, err := OpenTree(context.Background(), s, res.Root)
	must(t, err)
	if n, err := tr.Lookup(context.Background(), "sock"); err != nil || n.Type != TypeSocket {
		t.Fatalf("sock recorded as %v (%v), want a socket", n, err)
	}
	if _, err := tr.Lookup(context.Background(), "vanish/stays"); err != nil {
		t.Fatal(err)
	}
}

// TestUnreadableEntriesAsNonRoot runs a backup as uid 65534 through
// setpriv (root reads everything): a chmod 000 directory and file become
// warnings and the point holds the rest.
func TestUnreadableEntriesAsNonRoot(t *testing.T) {
	needTool(t, "setpriv", "util-linux")
	base := t.TempDir()
	must(t, os.Chmod(base, 0o755))
	must(t, os.Chmod(filepath.Dir(base), 0o755))
	src := filepath.Join(base, "src")
	writeFile(t, filepath.Join(src, "locked", "inside"), []byte("hidden"), 0o644)
	writeFile(t, filepath.Join(src, "secret"), []byte("no read"), 0)
	writeFile(t, filepath.Join(src, "open"), []byte("readable"), 0o644)
	must(t, os.Chmod(filepath.Join(src, "locked"), 0))
	work := filepath.Join(base, "work")
	must(t, os.Mkdir(work, 0o755))
	must(t, os.Chown(work, 65534, 65534))
	exe, err := os.Executable()
	must(t, err)
	bin := filepath.Join(base, "fileshare.test")
	run(t, "cp", exe, bin)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
		bin, "-test.run=^TestHelperUnprivilegedBackup$", "-test.v")
	cmd.Env = append(os.Environ(), "REWIND_HELPER_SRC="+src, "REWIND_HELPER_WORK="+work, "HOME="+work)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	i := strings.Index(string(out), "RESULT ")
	if i < 0 {
		t.Fatalf("helper printed no result:\n%s", out)
	}
	var got struct {
		Warnings []string
		Open     string
	}
	must(t, json.Unmarshal([]byte(strings.SplitN(string(out[i+7:]), "\n", 2)[0]), &got))
	if !hasWarning(got.Warnings, "/locked", "unreadable") || !hasWarning(got.Warnings, "/secret", "not backed up") {
		t.Fatalf("warnings %q: want /locked and /secret named", got.Warnings)
	}
	if got.Open != "readable" {
		t.Fatalf("the readable file came back as %q", got.Open)
	}
}

// TestHelperUnprivilegedBackup is the child of TestUnreadableEntriesAsNonRoot.
func TestHelperUnprivilegedBackup(t *testing.T) {
	src, work := os.Getenv("REWIND_HELPER_SRC"), os.Getenv("REWIND_HELPER_WORK")
	if src == "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	s := newStoreIn(t, work)
	res := backupTo(t, s, src, [32]byte{}, BackupOptions{})
	tr, err := OpenTree(ctx, s, res.Root)
	must(t, err)
	n, err := tr.Lookup(ctx, "open")
	must(t, err)
	f, err := tr.Open(ctx, n)
	must(t, err)
	buf := make([]byte, n.Size)
	_, err = f.ReadAt(buf, 0)
	must(t, err)
	b, _ := json.Marshal(map[string]any{"Warnings": res.Warnings, "Open": string(buf)})
	fmt.Printf("RESULT %s\n", b)
}
