package vmdisk

import (
	"net"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startServer starts an NBD server that listens on sock and stops it (its
// whole process group) at cleanup.
func startServer(t *testing.T, sock, name string, args ...string) (stop func()) {
	return startServerOn(t, "unix", sock, name, args...)
}

func startServerOn(t *testing.T, network, sock, name string, args ...string) (stop func()) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lockedBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			cmd.Wait()
		})
	}
	t.Cleanup(stop)
	for i := 0; i < 200; i++ {
		if c, err := net.Dial(network, sock); err == nil {
			c.Close()
			return stop
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s: %s", name, sock, out.String())
	return nil
}

// nbdkitFile serves path read-write with nbdkit and returns the URI.
func nbdkitFile(t *testing.T, path string) string {
	needTool(t, "nbdkit", "nbdkit")
	sock := filepath.Join(t.TempDir(), "nbdkit.sock")
	startServer(t, sock, "nbdkit", "-f", "-U", sock, "file", "file="+path)
	return "nbd+unix:///?socket=" + sock
}

// qemuNBD serves a qcow2 image (read-only, with bitmaps) and returns the URI.
func qemuNBD(t *testing.T, image string, extra ...string) (uri string, stop func()) {
	needTool(t, "qemu-nbd", "qemu-utils")
	sock := filepath.Join(t.TempDir(), "qemu-nbd.sock")
	args := append([]string{"-k", sock, "-f", "qcow2", "-t"}, extra...)
	stop = startServer(t, sock, "qemu-nbd", append(args, image)...)
	return "nbd+unix:///?socket=" + sock, stop
}
