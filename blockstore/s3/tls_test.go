package s3_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rewind-backup/rewind/blockstore"
	"github.com/rewind-backup/rewind/blockstore/s3/miniotest"
	"github.com/rewind-backup/rewind/blockstore/targettest"
)

// TestTLS: the conformance suite over HTTPS with the server's CA given by
// ca=; without it the certificate is refused; a CA file without a
// certificate is refused at open, naming the fix.
func TestTLS(t *testing.T) {
	srv := miniotest.StartTLS(t)
	srv.MakeBucket(t, "tls", false)
	targettest.Run(t, func(t *testing.T) blockstore.Target { return newTarget(t, srv, "tls") })

	noCA := strings.Replace(srv.Spec("tls", "x"), "&ca="+srv.CAFile, "", 1)
	start := time.Now()
	err := openSpec(t, noCA).Put(context.Background(), "a", []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "ca=/path.pem") {
		t.Errorf("put to a self-signed server without ca=: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a certificate error was retried for %v", d)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, err := openSpecErr(strings.Replace(srv.Spec("tls", "x"), srv.CAFile, bad, 1)); err == nil ||
		!strings.Contains(err.Error(), "PEM") {
		t.Errorf("open with a CA file holding no certificate: %v", err)
	}
}
