package tests

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTCPBounded reproduces issue 12 finding 9: TLS connections holding a
// half-sent request header, without any token, stayed open for ever. Now a
// client holds at most max_conns_per_ip connections (more are closed at
// accept), each is closed once read_header_timeout passes, and a fresh
// request then succeeds; a body over the limit gets 413, a header over
// max_header_bytes 431.
func TestTCPBounded(t *testing.T) {
	const perIP, slow = 8, 40
	m := accessDaemon(t, "", "read_header_timeout = \"3s\"\nmax_conns_per_ip = 8\nmax_conns = 64\nmax_header_bytes = 8192")
	start := time.Now()
	lived := make(chan time.Duration, slow)
	for i := 0; i < slow; i++ {
		c, err := slowHeader(m)
		if err != nil {
			lived <- 0
			continue
		}
		go func() {
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				lived <- time.Hour // never closed by the server
				return
			}
			lived <- time.Since(start)
		}()
	}
	short, long := 0, 0
	for i := 0; i < slow; i++ {
		switch d := <-lived; {
		case d == time.Hour:
			t.Fatalf("a slow-header connection was still open after 30s")
		case d < 2*time.Second:
			short++
		default:
			long++
		}
	}
	if long > perIP || short < slow-perIP {
		t.Fatalf("%d slow-header connections lived past 2s, %d were closed at once: want at most %d held (max_conns_per_ip)", long, short, perIP)
	}
	if long == 0 {
		t.Fatalf("no connection was held until read_header_timeout: the test measured nothing")
	}
	eventually(t, 20*time.Second, "a fresh request after the slow ones never succeeded", func() bool {
		code, _ := m.tryCall("reader", "GET", "/v1/status", nil)
		return code == 200
	})
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	if code, out := m.tryCall("admin", "POST", "/v1/vaults/default/policies", strings.NewReader(big)); code != 413 {
		t.Fatalf("a 2 MiB body: %d %s, want 413", code, out)
	}
	req, _ := http.NewRequest("GET", m.base+"/v1/status", nil)
	req.Header.Set("X-Pad", strings.Repeat("b", 16<<10))
	req.Header.Set("Authorization", "Bearer "+m.tokens["reader"])
	if resp, err := m.client.Do(req); err != nil || resp.StatusCode != 431 {
		t.Fatalf("a 16 KiB header with max_header_bytes 8192: %v %v, want 431", resp, err)
	}
}

// slowHeader opens a TLS connection and sends half a request header.
func slowHeader(m *matrix) (*tls.Conn, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", m.addr, m.tls)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte("GET /v1/status HTTP/1.1\r\nHost: rewind\r\n")); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// tryCall is call with a raw body, reporting a transport error as status 0.
func (m *matrix) tryCall(role, method, path string, body io.Reader) (int, []byte) {
	req, err := http.NewRequest(method, m.base+path, body)
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+m.tokens[role])
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	io.Copy(&out, resp.Body)
	return resp.StatusCode, out.Bytes()
}
