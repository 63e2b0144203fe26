package s3_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
)

// TestRetry503 puts and reads through a proxy that answers 503: a few are
// retried away; a server that keeps answering 503 fails the request within
// the retry bounds, naming the target, and leaves no object.
func TestRetry503(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "retry", false)
	px := miniotest.NewProxy(t, srv)
	tg := openSpec(t, px.Spec("retry", "p"))
	direct := openSpec(t, srv.Spec("retry", "p"))
	ctx := context.Background()
	data := bytes.Repeat([]byte("rewind"), 100000)

	px.Fail503(3)
	if err := tg.Put(ctx, "seg/a", data); err != nil {
		t.Fatalf("put through 3 503s: %v", err)
	}
	px.Fail503(2)
	p := make([]byte, 1000)
	if err := tg.ReadAt(ctx, "seg/a", p, 5000); err != nil || !bytes.Equal(p, data[5000:6000]) {
		t.Fatalf("read through 2 503s: %v", err)
	}
	if n := px.Served503(); n != 5 {
		t.Errorf("proxy served %d 503s, want 5", n)
	}

	px.Always503(true)
	start := time.Now()
	err := tg.Put(ctx, "seg/b", data)
	if err == nil || !strings.Contains(err.Error(), tg.Name()) || !strings.Contains(err.Error(), "ServiceUnavailable") &&
		!strings.Contains(err.Error(), "503") {
		t.Fatalf("put against a server that keeps answering 503: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("failing put took %v: retries not bounded", d)
	}
	if _, err := direct.Stat(ctx, "seg/b"); !errors.Is(err, blockstore.ErrNotExist) {
		t.Errorf("failed put left an object: %v", err)
	}
	start = time.Now()
	if err := tg.ReadAt(ctx, "seg/a", p, 0); err == nil {
		t.Fatal("read succeeded through a 503 proxy")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("read of a target known to be down took %v, want one quick try", d)
	}
	px.Always503(false)
	if err := tg.ReadAt(ctx, "seg/a", p, 0); err != nil {
		t.Fatalf("read after the server recovered: %v", err)
	}
}

// TestUnreachable kills the server: requests fail naming the target and the
// fix, quickly once the target is known down, and work again after a restart.
func TestUnreachable(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "gone", false)
	tg := openSpec(t, srv.Spec("gone", "p"))
	ctx := context.Background()
	if err := tg.Put(ctx, "seg/a", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	start := time.Now()
	err := tg.ReadAt(ctx, "seg/a", make([]byte, 5), 0)
	if err == nil || !strings.Contains(err.Error(), tg.Name()) || !strings.Contains(err.Error(), "reachable") {
		t.Fatalf("read from a killed server: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("first failing read took %v", d)
	}
	start = time.Now()
	for i := 0; i < 20; i++ {
		tg.ReadAt(ctx, "seg/a", make([]byte, 5), 0)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("20 reads of a down target took %v, want fast failures", d)
	}
	srv.Restart(t)
	p := make([]byte, 5)
	if err := tg.ReadAt(ctx, "seg/a", p, 0); err != nil || string(p) != "hello" {
		t.Fatalf("read after restart: %q %v", p, err)
	}
}

// TestBadCredentials: a refused key fails at once with the fix, never
// quoting the secret.
func TestBadCredentials(t *testing.T) {
	srv := miniotest.Start(t)
	srv.MakeBucket(t, "creds", false)
	bad := filepath.Join(t.TempDir(), "creds")
	os.WriteFile(bad, []byte("access_key=rewind-test\nsecret_key=wrong-secret-123\n"), 0o600)
	spec := strings.Replace(srv.Spec("creds", "p"), srv.CredsFile, bad, 1)
	start := time.Now()
	err := openSpec(t, spec).Put(context.Background(), "a", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "check the access and secret key") || strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("put with a wrong secret: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("an auth failure was retried for %v", d)
	}
}
