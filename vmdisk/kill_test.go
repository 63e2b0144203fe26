package vmdisk

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperBackupProcess is the body of the process TestKillDuringBackup
// kills: a slow qcow2 backup into its own store.
func TestHelperBackupProcess(t *testing.T) {
	img := os.Getenv("VMDISK_HELPER_IMAGE")
	if img == "" {
		t.Skip("helper process only")
	}
	ts := newTestStore(t)
	w := ts.NewWriter()
	opts := BackupOptions{Bitmap: "B", Progress: func(done, total int64) {
		os.Stdout.WriteString("progress\n")
		time.Sleep(time.Second)
	}}
	Backup(context.Background(), w, ts, "qcow2:"+img, nil, opts)
}

// TestKillDuringBackup: SIGKILL of the backing-up process takes its
// qemu-nbd with it; the generation it added is stale, and the next backup
// is still a trusted, byte-correct incremental.
func TestKillDuringBackup(t *testing.T) {
	ts := newTestStore(t)
	f := newQcow(t, "32M")
	f.write(0, 8<<20, 1)
	src, opts := "qcow2:"+f.path, BackupOptions{Bitmap: "B"}
	r1 := backupT(t, ts, src, nil, opts)
	f.write(12<<20, 4<<20, 2)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBackupProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "VMDISK_HELPER_IMAGE="+f.path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), "progress") {
	}
	if !qemuNBDRunning(f.path) {
		t.Fatal("helper backup is not serving the image through qemu-nbd")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for qemuNBDRunning(f.path) {
		if time.Now().After(deadline) {
			t.Fatal("qemu-nbd outlived the killed backup process")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if info := run(t, "qemu-img", "info", f.path); !strings.Contains(info, "B.rewind.2") {
		t.Fatalf("expected the killed run's generation to be left behind:\n%s", info)
	}
	r2 := backupT(t, ts, src, prevOf(r1), opts)
	if r2.Method != MethodBitmap || r2.BytesRead != 4<<20 {
		t.Fatalf("after a killed run: method %s read %d %v", r2.Method, r2.BytesRead, r2.Warnings)
	}
	sameFiles(t, f.snapshot(), restoreT(t, ts, *prevOf(r2), RestoreOptions{}))
	if info := run(t, "qemu-img", "info", f.path); strings.Contains(info, "B.rewind.2") || strings.Contains(info, "B.rewind.1\n") {
		t.Fatalf("stale generations not removed after commit:\n%s", info)
	}
}
