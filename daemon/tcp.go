package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// serveTCP serves the API over TCP with TLS; callers authenticate with a
// bearer token whose role decides what they may do.
func (d *Daemon) serveTCP() (*http.Server, error) {
	cert, err := tls.LoadX509KeyPair(d.cfg.TCP.Cert, d.cfg.TCP.Key)
	if err != nil {
		return nil, fmt.Errorf("tcp: load certificate %s / key %s: %w", d.cfg.TCP.Cert, d.cfg.TCP.Key, err)
	}
	ln, err := net.Listen("tcp", d.cfg.TCP.Listen)
	if err != nil {
		return nil, fmt.Errorf("tcp: listen on %s: %w", d.cfg.TCP.Listen, err)
	}
	c := d.cfg.TCP
	ln = newLimitListener(ln, c.MaxConns, c.MaxConnsPerIP, d.log)
	srv := &http.Server{
		Handler:           d.tokenAuth(d.mux),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: c.ReadHeaderTimeout.Duration,
		ReadTimeout:       c.ReadTimeout.Duration,
		WriteTimeout:      c.WriteTimeout.Duration,
		IdleTimeout:       c.IdleTimeout.Duration,
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("tcp api stopped", "err", err)
		}
	}()
	d.log.Info("api on tcp", "listen", ln.Addr().String())
	return srv, nil
}

// tokenAuth turns a bearer token into the request's principal; without a
// valid token the principal stays unset and every route answers 401.
func (d *Daemon) tokenAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if secret := bearer(r); secret != "" {
			if t, ok := d.tokens.lookup(secret); ok {
				r = r.WithContext(withPrincipal(r.Context(), t.principal()))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limitListener caps the connections the TCP API holds open at once, in
// total and per client IP; a connection over either cap is closed as soon as
// it is accepted, so one client cannot starve the others.
type limitListener struct {
	net.Listener
	total, perIP int
	log          *slog.Logger

	mu    sync.Mutex
	open  int
	byIP  map[string]int
	warnd time.Time
}

func newLimitListener(ln net.Listener, total, perIP int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, total: total, perIP: perIP, log: log, byIP: map[string]int{}}
}

// Accept returns the next connection within the caps.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		if l.admit(ip) {
			return &limitedConn{Conn: c, release: func() { l.release(ip) }}, nil
		}
		c.Close()
	}
}

// admit counts a new connection from ip, or reports it is over a cap.
func (l *limitListener) admit(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.total || l.byIP[ip] >= l.perIP {
		if time.Since(l.warnd) > time.Minute {
			l.warnd = time.Now()
			l.log.Warn("tcp api: connection refused over the limit (tcp.max_conns / tcp.max_conns_per_ip)",
				"client", ip, "open", l.open, "open_from_client", l.byIP[ip])
		}
		return false
	}
	l.open++
	l.byIP[ip]++
	return true
}

func (l *limitListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return c.RemoteAddr().String()
}

// limitedConn gives its slot back once, on the first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
