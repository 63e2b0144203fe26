package miniotest

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Proxy is a loopback HTTP proxy in front of a Server that can answer with
// 503 Service Unavailable instead of forwarding: the server-side faults a
// real S3 endpoint shows under load or during maintenance.
type Proxy struct {
	Addr   string
	srv    *Server
	mu     sync.Mutex
	fail   int  // answer this many more requests with 503
	always bool // answer every request with 503
	served int  // requests answered with 503 so far
}

// NewProxy starts a proxy to srv, stopped when t ends.
func NewProxy(t testing.TB, srv *Server) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{Addr: l.Addr().String(), srv: srv}
	up := &url.URL{Scheme: "http", Host: srv.Addr}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(up)
		r.Out.Host = r.In.Host // the client signed this host
	}}
	hs := &http.Server{Handler: p.handler(rp)}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return p
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.take() {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Proxy) take() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.always || p.fail > 0 {
		p.fail--
		p.served++
		return true
	}
	return false
}

// Fail503 answers the next n requests with 503.
func (p *Proxy) Fail503(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = n
}

// Always503 answers every request with 503 while on.
func (p *Proxy) Always503(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.always = on
}

// Served503 reports how many requests got an injected 503.
func (p *Proxy) Served503() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served
}

// Spec is like Server.Spec but through the proxy.
func (p *Proxy) Spec(bucket, prefix string, opts ...string) string {
	return strings.Replace(p.srv.Spec(bucket, prefix, opts...), p.srv.Addr, p.Addr, 1)
}
