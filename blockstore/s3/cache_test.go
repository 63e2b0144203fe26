package s3_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rewind-backup/rewind/blockstore/faulty"
	"github.com/rewind-backup/rewind/blockstore/s3"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
)

func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>12)
	}
	return b
}

// TestCache proves repeated reads are served locally, the size bound holds
// with LRU eviction, Put drops stale blocks, a damaged block file is
// refetched, and a new Cache on the same directory reuses what is there.
func TestCache(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "cache", false)
	ctx := context.Background()
	f := faulty.Wrap(newTarget(t, srv, "cache"))
	dir := t.TempDir()
	c, err := s3.NewCache(f, dir, 3*s3.CacheBlock+64)
	if err != nil {
		t.Fatal(err)
	}
	data := patterned(5*s3.CacheBlock + 777)
	if err := c.Put(ctx, "seg/x", data); err != nil {
		t.Fatal(err)
	}
	read := func(off, n int) {
		t.Helper()
		p := make([]byte, n)
		if err := c.ReadAt(ctx, "seg/x", p, int64(off)); err != nil || !bytes.Equal(p, data[off:off+n]) {
			t.Fatalf("read %d+%d: %v", off, n, err)
		}
	}
	read(100, 2*s3.CacheBlock) // blocks 0..2
	_, r0 := f.Calls()
	for i := 0; i < 5; i++ {
		read(100+i*1000, 2*s3.CacheBlock-5000)
	}
	if _, r1 := f.Calls(); r1 != r0 {
		t.Errorf("repeated reads went to the target: %d reads, want %d", r1, r0)
	}
	if h, m := c.Stats(); m != 3 || h < 10 {
		t.Errorf("hits %d misses %d, want 3 misses", h, m)
	}
	read(len(data)-777, 777) // block 5, short
	read(3*s3.CacheBlock, 10)
	if u := c.Used(); u > 3*s3.CacheBlock+64 {
		t.Errorf("cache holds %d bytes over its bound", u)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	if len(files) > 3 {
		t.Errorf("%d block files on disk, want at most 3", len(files))
	}

	newer := patterned(100)
	newer[0] ^= 0xff
	if err := c.Put(ctx, "seg/x", newer); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 100)
	if err := c.ReadAt(ctx, "seg/x", p, 0); err != nil || !bytes.Equal(p, newer) {
		t.Fatalf("read after replace: stale cache? %v", err)
	}
	files, _ = filepath.Glob(filepath.Join(dir, "*", "*"))
	for _, fn := range files {
		os.WriteFile(fn, []byte("garbage!"), 0o600)
	}
	c2, err := s3.NewCache(f, dir, 3*s3.CacheBlock+64)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.ReadAt(ctx, "seg/x", p, 0); err != nil || !bytes.Equal(p, newer) {
		t.Fatalf("read of a damaged block file: %v", err)
	}
	_, before := f.Calls()
	if err := c2.ReadAt(ctx, "seg/x", p, 0); err != nil {
		t.Fatal(err)
	}
	if _, after := f.Calls(); after != before {
		t.Error("a reopened cache did not serve its refetched block")
	}
}

// TestCacheFromSpec: cache= and cache-size= in the spec give a Cache.
func TestCacheFromSpec(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "spec", false)
	tg := openSpec(t, srv.Spec("spec", "p", "cache="+t.TempDir(), "cache-size=2M"))
	c, ok := tg.(*s3.Cache)
	if !ok {
		t.Fatalf("Open with cache= gave %T", tg)
	}
	ctx := context.Background()
	c.Put(ctx, "a", patterned(3000))
	for i := 0; i < 3; i++ {
		if err := c.ReadAt(ctx, "a", make([]byte, 1000), 1000); err != nil {
			t.Fatal(err)
		}
	}
	if h, m := c.Stats(); h != 2 || m != 1 {
		t.Errorf("hits %d misses %d", h, m)
	}
}
