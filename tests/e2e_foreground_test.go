package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestForegroundMount: with the daemon stopped, the CLI serves a mount
// itself and unmounts on Ctrl-C.
func TestForegroundMount(t *testing.T) {
	need(t, "fusermount3")
	d := startDaemon(t, "")
	src := filepath.Join(d.dir, "share")
	makeTree(t, src)
	d.must("item", "add", "files", "--share", src)
	d.must("backup", "files")
	if err := d.kill(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(d.dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	cmd := exec.Command(rewindBin, "mount", mnt, "--foreground", "--data", d.data,
		"--passphrase-file", filepath.Join(d.data, "default-vault.passphrase"))
	out, _ := os.Create(filepath.Join(d.dir, "fg.log"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); syscall.Unmount(mnt, syscall.MNT_DETACH) })
	readme := filepath.Join(mnt, "files", "latest", "docs", "readme.txt")
	var got []byte
	for i := 0; i < 100; i++ {
		if b, err := os.ReadFile(readme); err == nil {
			got = b
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if string(got) != "hello rewind\n" {
		log, _ := os.ReadFile(filepath.Join(d.dir, "fg.log"))
		t.Fatalf("read through the foreground mount: %q\n%s", got, log)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("foreground mount exit: %v", err)
	}
	if _, err := os.Stat(readme); err == nil {
		t.Fatal("the mount is still there after Ctrl-C")
	}
}
