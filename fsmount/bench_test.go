package fsmount

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/fileshare"
	"github.com/rewind-backup/rewind/vmdisk"
	"golang.org/x/sys/unix"
)

// BenchmarkMount reads one large file (REWIND_BENCH_MB, default 1024) with
// dd bs=1M through
//
//	ceiling  a go-fuse MemRegularFile served from memory, same mount options
//	memory   a share point over in-memory chunks (fileshare reader + cache)
//	store    the same point in a real block store (decode on every miss)
//	disk-memory  the same bytes as disk.img of a disk point over in-memory chunks
//
// then 4 KiB random reads/s and time to first byte. Figures go to
// BENCHMARKS.md. Run: go test -run '^$' -bench Mount -benchtime 3x ./fsmount/
func BenchmarkMount(b *testing.B) {
	mb := 1024
	if s := os.Getenv("REWIND_BENCH_MB"); s != "" {
		mb, _ = strconv.Atoi(s)
	}
	src := b.TempDir()
	data := make([]byte, mb<<20)
	rand.NewChaCha8([32]byte{9}).Read(data)
	for i := 0; i < len(data); i += 8 << 20 { // some compressible runs, like real files
		clear(data[i : i+1<<20])
	}
	if err := os.WriteFile(filepath.Join(src, "big"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	ceiling := mountCeiling(b, data)
	mem := newMemChunks()
	res, err := fileshare.Backup(context.Background(), mem, mem, src, blockstore.ID{}, fileshare.BackupOptions{})
	if err != nil {
		b.Fatal(err)
	}
	memRoot := res.Root
	diskRoot := backupDiskMem(b, mem, filepath.Join(src, "big"))
	st := newStore(b)
	stRoot := backupShare(b, st, src, blockstore.ID{})
	data = nil

	point := func(r ChunkReader, root blockstore.ID) string {
		cat := &memCatalog{items: []ItemInfo{{Name: "s"}}, points: map[string][]PointInfo{"s": {{Time: t0, Kind: KindShare, Root: root}}}}
		_, dir := mountStore(b, cat, r, Options{})
		return filepath.Join(dir, "s", PointName(t0), "big")
	}
	disk := func(r ChunkReader, root blockstore.ID) string {
		cat := &memCatalog{items: []ItemInfo{{Name: "d"}}, points: map[string][]PointInfo{"d": {{Time: t0, Kind: KindDisk, Root: root}}}}
		_, dir := mountStore(b, cat, r, Options{})
		return filepath.Join(dir, "d", PointName(t0), "disk.img")
	}
	files := []struct{ name, path string }{
		{"ceiling", ceiling}, {"memory", point(mem, memRoot)}, {"store", point(st, stRoot)},
		{"disk-memory", disk(mem, diskRoot)},
	}
	for _, f := range files {
		b.Run("seq-dd/"+f.name, func(b *testing.B) {
			b.SetBytes(int64(mb) << 20)
			for range b.N {
				dropCache(b, f.path)
				run(b, "dd", "if="+f.path, "of=/dev/null", "bs=1M")
			}
		})
	}
	for _, f := range files {
		b.Run("rand4k/"+f.name, func(b *testing.B) { randomReads(b, f.path, int64(mb)<<20) })
	}
	for _, f := range []struct {
		name string
		r    ChunkReader
		root blockstore.ID
	}{{"memory", mem, memRoot}, {"store", st, stRoot}} {
		b.Run("first-byte/"+f.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				p := point(f.r, f.root)
				b.StartTimer()
				firstByte(b, p)
			}
		})
	}
}

// backupDiskMem backs img up as a disk point into mem.
func backupDiskMem(b *testing.B, mem *memChunks, img string) blockstore.ID {
	res, err := vmdisk.Backup(context.Background(), mem, mem, img, nil, vmdisk.BackupOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := res.Commit(context.Background()); err != nil {
		b.Fatal(err)
	}
	return res.Root
}

// randomReads does 4 KiB preads at random offsets from 4 goroutines for a
// second per iteration and reports reads/s.
func randomReads(b *testing.B, p string, size int64) {
	dropCache(b, p)
	var n atomic.Int64
	start := time.Now()
	for range b.N {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, err := os.Open(p)
				if err != nil {
					b.Error(err)
					return
				}
				defer f.Close()
				unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_RANDOM)
				r := rand.New(rand.NewPCG(uint64(g), 1))
				buf := make([]byte, 4096)
				for end := time.Now().Add(time.Second); time.Now().Before(end); {
					if _, err := f.ReadAt(buf, r.Int64N(size/4096)*4096); err != nil {
						b.Error(err)
						return
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "reads/s")
}

func firstByte(b *testing.B, p string) {
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(make([]byte, 4096), 0); err != nil {
		b.Fatal(err)
	}
}

// dropCache evicts a file's pages so the next read goes to the file system.
func dropCache(b *testing.B, p string) {
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// mountCeiling serves data as one file from memory with our mount options.
func mountCeiling(b *testing.B, data []byte) string {
	dir := b.TempDir()
	root := &fs.Inode{}
	opts := fsOptions(Options{})
	opts.OnAdd = func(ctx context.Context) {
		f := &fs.MemRegularFile{Data: data, Attr: fuse.Attr{Mode: 0o444}}
		root.AddChild("big", root.NewPersistentInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG}), false)
	}
	server, err := fs.Mount(dir, root, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if server.Unmount() != nil {
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	if err := raiseReadAhead(dir, 1024); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dir, "big")
}

// memChunks is a chunk store in memory (ids are SHA-256 of the plaintext).
type memChunks struct {
	mu sync.RWMutex
	m  map[blockstore.ID][]byte
}

func newMemChunks() *memChunks { return &memChunks{m: map[blockstore.ID][]byte{}} }

func (s *memChunks) Get(_ context.Context, id blockstore.ID) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.m[id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("chunk %s: %w", id, blockstore.ErrNotFound)
}

func (s *memChunks) ChunkID(data []byte) blockstore.ID { return sha256.Sum256(data) }

func (s *memChunks) Put(_ context.Context, data []byte) (blockstore.PutResult, error) {
	id := s.ChunkID(data)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, had := s.m[id]
	if !had {
		s.m[id] = append([]byte(nil), data...)
	}
	return blockstore.PutResult{ID: id, New: !had, Stored: len(data)}, nil
}
