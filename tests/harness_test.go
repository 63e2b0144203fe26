package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rewindBin is the binary under test, built once by TestMain.
var rewindBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rewind-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rewindBin = filepath.Join(dir, "rewind")
	build := exec.Command("go", "build", "-o", rewindBin, "../cmd/rewind")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build rewind:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// need fails the test when a tool is missing, with the install hint.
func need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run \"make test-deps\" (apt-get install the package providing it)", tool)
		}
	}
}

// daemonProc is a "rewind daemon" process on a temporary data dir and socket.
type daemonProc struct {
	t      testing.TB
	dir    string
	data   string
	socket string
	config string
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	env    []string
}

// startDaemon starts the real binary; config (may be "") is TOML text.
func startDaemon(t testing.TB, config string) *daemonProc {
	t.Helper()
	dir := t.TempDir()
	d := &daemonProc{t: t, dir: dir, data: filepath.Join(dir, "data"), socket: filepath.Join(dir, "rewind.sock")}
	d.config = filepath.Join(dir, "rewind.toml")
	if err := os.WriteFile(d.config, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	t.Cleanup(d.stop)
	return d
}

func (d *daemonProc) start() {
	d.t.Helper()
	d.logs = &bytes.Buffer{}
	d.cmd = exec.Command(rewindBin, "daemon", "--config", d.config, "--data", d.data, "--socket", d.socket, "--log-level", "debug")
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	d.cmd.Env = append(os.Environ(), d.env...)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("start daemon: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, _, code := d.run("status"); code == 0 {
			return
		}
		if d.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("daemon did not come up:\n%s", d.logs.String())
}

// kill sends sig and waits for the process to end.
func (d *daemonProc) kill(sig syscall.Signal) error {
	if d.cmd == nil || d.cmd.Process == nil {
		return nil
	}
	_ = d.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		d.cmd = nil
		return err
	case <-time.After(90 * time.Second):
		_ = d.cmd.Process.Kill()
		d.t.Errorf("daemon did not exit after %v:\n%s", sig, d.logs.String())
		return <-done
	}
}

func (d *daemonProc) stop() {
	if d.cmd != nil {
		_ = d.kill(syscall.SIGTERM)
	}
	// A daemon that died without unmounting leaves FUSE mounts behind.
	if out, err := os.ReadFile("/proc/self/mounts"); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && strings.HasPrefix(f[1], d.dir) {
				_ = syscall.Unmount(f[1], syscall.MNT_DETACH)
			}
		}
	}
	if d.t.Failed() {
		d.t.Logf("daemon log:\n%s", tail(d.logs.String(), 8000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// run runs the CLI against this daemon and returns stdout, stderr, exit code.
func (d *daemonProc) run(args ...string) (string, string, int) {
	return d.runEnv(nil, args...)
}

func (d *daemonProc) runEnv(env []string, args ...string) (string, string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rewindBin, args...)
	cmd.Env = append(append(os.Environ(), "REWIND_SOCKET="+d.socket), env...)
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

// must runs the CLI and fails the test on a non-zero exit.
func (d *daemonProc) must(args ...string) string {
	d.t.Helper()
	out, errOut, code := d.run(args...)
	if code != 0 {
		d.t.Fatalf("rewind %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// jsonOf runs a CLI listing with --json and decodes it into v.
func (d *daemonProc) jsonOf(v any, args ...string) {
	d.t.Helper()
	out := d.must(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		d.t.Fatalf("rewind %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// createVault makes a vault with a passphrase file and returns the file.
func (d *daemonProc) createVault(name string) string {
	d.t.Helper()
	pf := filepath.Join(d.dir, name+".pass")
	if err := os.WriteFile(pf, []byte("correct horse battery "+name+"\n"), 0o600); err != nil {
		d.t.Fatal(err)
	}
	d.must("vault", "create", name, "--passphrase-file", pf)
	return pf
}

// eventually polls cond every 100 ms until it holds or within passes, then
// fails the test with what (the condition waited for).
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v still waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
