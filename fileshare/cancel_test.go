package fileshare

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"
)

func TestBackupCancelled(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeManyFiles(t, src, 2000)
	s := newStore(t)
	w := s.NewWriter()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls, reads atomic.Int64
	progress := func(files, bytes int64) { calls.Add(1) }
	hook := func(string) { // cancel once 50 files were read
		if reads.Add(1) == 50 {
			cancel()
		}
	}
	_, err := Backup(ctx, w, s, src, blockstore.ID{}, BackupOptions{Progress: progress, testHookRead: hook})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled backup returned %v, want context.Canceled", err)
	}
	if calls.Load() == 0 {
		t.Fatal("progress never called")
	}
	if n := reads.Load(); n > 100 {
		t.Fatalf("%d files read after cancelling at 50", n)
	}
}

func TestBackupReadLimiter(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "f"), randData(newRand(), 3<<20), 0o644)
	s := newStore(t)
	lim := rate.NewLimiter(rate.Limit(4<<20), 64<<10) // 4 MiB/s
	start := time.Now()
	res := backupTo(t, s, src, blockstore.ID{}, BackupOptions{Limiter: lim})
	if el := time.Since(start); el < 600*time.Millisecond {
		t.Fatalf("3 MiB at 4 MiB/s took %v, want about 0.75s", el)
	}
	if res.BytesRead != 3<<20 {
		t.Fatalf("read %d bytes", res.BytesRead)
	}
}

func TestRestoreCancelledAndVerifyMismatch(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	makeManyFiles(t, src, 500)
	writeFile(t, filepath.Join(src, "big"), randData(newRand(), 3<<20), 0o644)
	s := newStore(t)
	res := backupTo(t, s, src, blockstore.ID{}, BackupOptions{})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progress := func(files, bytes int64) {
		if files > 20 {
			cancel()
		}
	}
	_, err := Restore(ctx, s, res.Root, filepath.Join(t.TempDir(), "a"), RestoreOptions{Progress: progress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled restore returned %v, want context.Canceled", err)
	}

	// a file altered between writing and verifying is reported
	var once sync.Once
	spoil := func(fd int) {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Size == 3<<20 {
			once.Do(func() { unix.Pwrite(fd, []byte("spoiled"), 1<<20) })
		}
	}
	rr, err := Restore(context.Background(), s, res.Root, filepath.Join(t.TempDir(), "b"),
		RestoreOptions{Verify: true, testHookVerify: spoil})
	must(t, err)
	if len(rr.Mismatches) != 1 || !strings.Contains(rr.Mismatches[0], "/big") || rr.Verified != 501 {
		t.Fatalf("verify: %d files, mismatches %q; want /big named", rr.Verified, rr.Mismatches)
	}
}
