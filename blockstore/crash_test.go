package blockstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashEnv = "REWIND_BLOCKSTORE_CRASH_CHILD"

// crashChunk is the deterministic content of chunk (iter, writer, batch, j).
func crashChunk(iter, g, b, j int) []byte {
	r := rand.New(rand.NewPCG(uint64(iter)<<32|uint64(g)<<24|uint64(b)<<8|uint64(j), 7))
	n := 8<<10 + r.IntN(40<<10)
	switch j % 3 {
	case 0:
		c := make([]byte, n)
		c[r.IntN(n)] = 1
		return c
	case 1:
		return textBytes(r, n)
	}
	return randomBytes(r, n)
}

// TestCrashChild is the helper process: it ingests and flushes until killed,
// appending "iter writer batch j id" lines (fsynced) after each Flush.
func TestCrashChild(t *testing.T) {
	args := strings.Fields(os.Getenv(crashEnv))
	if len(args) != 3 {
		t.Skip("helper process for TestCrashLoop")
	}
	iter, _ := strconv.Atoi(args[2])
	ctx := context.Background()
	s, err := Open(ctx, args[0], crashTargets(t, args[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	report, err := os.OpenFile(args[1], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			crashIngest(ctx, t, s, iter, g, report, &mu)
		}()
	}
	wg.Wait()
}

func crashIngest(ctx context.Context, t *testing.T, s *Store, iter, g int, report *os.File, mu *sync.Mutex) {
	w := s.NewWriter()
	for b := 0; ; b++ {
		var lines bytes.Buffer
		for j := 0; j < 4; j++ {
			data := crashChunk(iter, g, b, j)
			if j == 3 && iter > 0 {
				data = crashChunk(iter-1, g, b, 1) // dedupes against an older run
				fmt.Fprintf(&lines, "%d %d %d %d ", iter-1, g, b, 1)
			} else {
				fmt.Fprintf(&lines, "%d %d %d %d ", iter, g, b, j)
			}
			r, err := w.Put(ctx, data)
			if err != nil {
				t.Error(err)
				return
			}
			fmt.Fprintf(&lines, "%s\n", r.ID)
		}
		if err := w.Flush(ctx); err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		report.Write(lines.Bytes())
		report.Sync()
		mu.Unlock()
	}
}

func crashTargets(t testing.TB, dir string) []Target {
	return newTargets(t, filepath.Join(filepath.Dir(dir), "targets"), 6)
}

func TestCrashLoop(t *testing.T) {
	iters := 50
	if raceEnabled || testing.Short() {
		iters = 10
	}
	if os.Getenv("REWIND_SOAK") != "" {
		iters = 500
	}
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	ts := crashTargets(t, dir)
	ctx := context.Background()
	s, err := Create(ctx, dir, testPass, ts, Options{SegmentSize: 96 << 10})
	if err != nil {
		t.Fatal(err)
	}
	k := s.key.Load()
	s.Close()
	reportPath := filepath.Join(root, "committed")
	verified := map[ID]bool{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for iter := 0; iter < iters; iter++ {
		runCrashChild(t, dir, reportPath, iter, time.Duration(30+rng.IntN(500))*time.Millisecond)
		s, err := Open(ctx, dir, ts)
		if err != nil {
			t.Fatalf("iteration %d: reopen: %v", iter, err)
		}
		s.key.Store(k) // same key the child unlocked; spares an argon2 run per iteration
		checkCommitted(t, s, reportPath, verified)
		s.Close()
	}
	s, err = Open(ctx, dir, ts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.key.Store(k)
	var all []ID
	s.scanPrefix(prefixChunk, func(key, _ []byte) error { all = append(all, ID(key[len(prefixChunk):])); return nil })
	st, err := s.GC(ctx, liveSet(all))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d iterations, %d chunks committed, GC: %+v", iters, len(verified), st)
	if st.DeadChunks != 0 {
		t.Fatalf("GC dropped live chunks: %+v", st)
	}
	checkNoOrphans(t, s, ts)
	checkCommitted(t, s, reportPath, map[ID]bool{})
}

func runCrashChild(t *testing.T, dir, report string, iter int, after time.Duration) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", crashEnv, dir, report, iter))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(after)
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child ended on its own (%v): %s", err, out.String())
	}
}

// checkCommitted reads back every reported chunk byte for byte, and every
// index entry (nothing half-committed may be visible).
func checkCommitted(t *testing.T, s *Store, report string, verified map[ID]bool) {
	ctx := context.Background()
	f, err := os.Open(report)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var it, g, b, j int
		var hexID string
		if n, _ := fmt.Sscanf(sc.Text(), "%d %d %d %d %s", &it, &g, &b, &j, &hexID); n != 5 {
			continue // a torn last line
		}
		id, err := ParseID(hexID)
		if err != nil || verified[id] {
			continue
		}
		got, err := s.Get(ctx, id)
		if err != nil || !bytes.Equal(got, crashChunk(it, g, b, j)) {
			t.Fatalf("committed chunk %s (%d %d %d %d) lost: %v", id, it, g, b, j, err)
		}
		verified[id] = true
	}
	s.scanPrefix(prefixChunk, func(key, _ []byte) error {
		id := ID(key[len(prefixChunk):])
		if !verified[id] {
			if _, err := s.Get(ctx, id); err != nil {
				t.Fatalf("index entry %s not readable: %v", id, err)
			}
			verified[id] = true
		}
		return nil
	})
}

func checkNoOrphans(t *testing.T, s *Store, ts []Target) {
	for _, tg := range ts {
		tg.List(context.Background(), "seg/", func(name string, _ int64) error {
			seg, _, ok := parseShardName(name)
			if orphan, _ := s.isOrphan(seg); !ok || orphan {
				t.Errorf("orphan object %s left after GC", name)
			}
			return nil
		})
	}
}
