package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	srv := &http.Server{
		Handler:   d.tokenAuth(d.mux),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ErrorLog:  slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
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
