// Package miniotest starts real MinIO servers on loopback for tests: temp
// data directories, free ports, root credentials in a creds file, readiness
// wait, SIGKILL and restart, and cleanup. The binary is $REWIND_MINIO or
// ${REWIND_CACHE:-$HOME/.cache/rewind}/bin/minio, installed by
// "scripts/minio.sh install".
package miniotest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Root credentials of every test server (test-only, loopback-only).
const (
	User     = "rewind-test"
	Password = "rewind-test-secret"
)

// Server is one running MinIO.
type Server struct {
	Addr      string // 127.0.0.1:PORT
	Dir       string // data directory
	CredsFile string // two lines: user, password
	CAFile    string // with StartTLS: the server's certificate (PEM)
	certs     string // with StartTLS: MinIO's --certs-dir
	bin       string
	log       string
	cmd       *exec.Cmd
	done      chan struct{}
}

// Binary finds the MinIO server binary or says how to install it.
func Binary() (string, error) {
	if p := os.Getenv("REWIND_MINIO"); p != "" {
		return p, nil
	}
	cache := os.Getenv("REWIND_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "rewind")
	}
	p := filepath.Join(cache, "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("MinIO server not found at %s: run \"scripts/minio.sh install\" (or set REWIND_MINIO to a minio binary)", p)
	}
	return p, nil
}

// Start runs a MinIO server and stops it when t ends. It fails t (never
// skips) when the server cannot be started, naming the fix.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Server{Dir: filepath.Join(dir, "data"), bin: bin, log: filepath.Join(dir, "minio.log"),
		CredsFile: filepath.Join(dir, "creds")}
	if err := os.WriteFile(s.CredsFile, []byte(User+"\n"+Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Addr = freeAddr(t)
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	return s
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *Server) start() error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	args := []string{"server", "--quiet", "--address", s.Addr, "--console-address", "127.0.0.1:0"}
	if s.certs != "" {
		args = append(args, "--certs-dir", s.certs)
	}
	cmd := exec.Command(s.bin, append(args, s.Dir)...)
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+User, "MINIO_ROOT_PASSWORD="+Password,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_API_REQUESTS_MAX=256", "GOMAXPROCS=2")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start MinIO %s: %w: run \"scripts/minio.sh install\" to rebuild it", s.bin, err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	return s.waitReady(60 * time.Second)
}

// waitReady polls the health endpoint until the server answers.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	cl := s.httpClient()
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("MinIO on %s exited at start: %s", s.Addr, s.logTail())
		default:
		}
		resp, err := cl.Get(s.url() + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Kill()
	return fmt.Errorf("MinIO on %s not ready after %v: %s", s.Addr, limit, s.logTail())
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// Kill stops the server with SIGKILL (a crash) and waits for it to exit.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts a killed server again on the same address and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Spec is an s3:// target spec for bucket/prefix on this server, with extra
// query options ("cache=/d", …).
func (s *Server) Spec(bucket, prefix string, opts ...string) string {
	spec := "s3://" + s.Addr + "/" + bucket
	if prefix != "" {
		spec += "/" + prefix
	}
	base := []string{"path-style=1", "creds=" + s.CredsFile}
	if s.certs != "" {
		base = append(base, "tls=1", "ca="+s.CAFile)
	}
	return spec + "?" + strings.Join(append(base, opts...), "&")
}

func (s *Server) url() string {
	if s.certs != "" {
		return "https://" + s.Addr
	}
	return "http://" + s.Addr
}

// httpClient trusts the test certificate of a TLS server.
func (s *Server) httpClient() *http.Client {
	cl := &http.Client{Timeout: time.Second}
	if s.certs == "" {
		return cl
	}
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(s.CAFile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	cl.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	return cl
}

// Ready reports whether the server answers its health check now.
func (s *Server) Ready(ctx context.Context) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url()+"/minio/health/ready", nil)
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
