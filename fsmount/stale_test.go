package fsmount

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHelperMountAndHang is not a test: TestStaleMountAfterKill runs the test
// binary with it to get a mount whose server is then killed with SIGKILL.
func TestHelperMountAndHang(t *testing.T) {
	dir := os.Getenv("FSMOUNT_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	f := newFixture()
	f.add("x", t0, smallTree("x"))
	if _, err := mount(t.Context(), dir, f.cat, f.open, Options{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute)
}

func TestStaleMountAfterKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMountAndHang$")
	cmd.Env = append(os.Environ(), "FSMOUNT_HELPER_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		for ok, _ := isRewindMount(dir); ok; ok, _ = isRewindMount(dir) {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ok, _ := isRewindMount(dir); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("helper did not mount")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.ReadDir(dir); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatal("mount of a killed server still answers")
	}
	f := newFixture()
	f.add("y", t0, smallTree("fresh"))
	m, err := mount(t.Context(), dir, f.cat, f.open, Options{})
	if err != nil {
		t.Fatalf("mount over a stale mount: %v", err)
	}
	t.Cleanup(func() { m.Unmount() })
	if b, err := os.ReadFile(filepath.Join(dir, "y", LatestName, "f")); string(b) != "fresh" {
		t.Fatalf("new mount: %q %v", b, err)
	}
}
