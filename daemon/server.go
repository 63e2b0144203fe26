package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rewind-backup/rewind/vault"
)

// maxBody bounds an API request body: requests are small JSON documents.
const maxBody = 1 << 20

// handlerFunc serves one endpoint: it decodes its own input from r and
// returns a value to encode as JSON, or an error (an *Error keeps its code).
type handlerFunc func(r *http.Request) (any, error)

// route registers pattern (Go 1.22 ServeMux syntax) needing role need.
func (d *Daemon) route(pattern string, need Role, h handlerFunc) {
	d.routeAny(pattern, []Role{need}, h)
}

// routeAny registers pattern for principals holding any of needs. It is the
// one place roles are checked: no credentials → 401, no fitting role → 403.
func (d *Daemon) routeAny(pattern string, needs []Role, h handlerFunc) {
	d.patterns = append(d.patterns, pattern)
	d.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if e := d.refuse(p, needs); e != nil {
			writeError(w, e)
			return
		}
		if vn := r.PathValue("vault"); vn != "" && !p.InScope(vn) {
			writeError(w, Errf(CodeNotFound, "vault %q not found: \"rewind vault list\" shows the vaults", vn))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		v, err := h(r)
		if err != nil {
			e := d.apiError(err)
			if e.Code == CodeInternal {
				d.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, e)
			return
		}
		if r.Method != http.MethodGet {
			d.catalogChanged(r)
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// refuse is the error for a principal that may not call a route needing
// any of needs, or nil.
func (d *Daemon) refuse(p *Principal, needs []Role) *Error {
	switch {
	case p == nil:
		return Errf(CodeUnauthenticated, "no credentials: use the unix socket as root or as a user socket_roles names, or send a bearer token over TCP")
	case len(p.Roles) == 0:
		return Errf(CodeForbidden, "%s has no role on this daemon: an admin gives it one in socket_roles (daemon config)", p.Name)
	case !p.CanAny(needs):
		return Errf(CodeForbidden, "%s may not do this: it needs the %s role", p.Name, joinRoles(needs))
	}
	return nil
}

func joinRoles(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
}

// catalogChanged queues a checkpoint of the vault a successful change
// request touched (by path or by item).
func (d *Daemon) catalogChanged(r *http.Request) {
	name := r.PathValue("vault")
	if name == "" && r.PathValue("item") != "" {
		if v, _, err := d.findItem(r); err == nil {
			d.ckpt.changed(v)
		}
		return
	}
	if v, err := d.host.Vault(name); err == nil {
		d.ckpt.changed(v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Code.HTTPStatus(), e)
}

// decode reads a JSON request body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return Errf(CodeTooLarge, "request body is over %d bytes: API requests are small JSON documents", tooBig.Limit)
	case err != nil && !errors.Is(err, io.EOF):
		return Errf(CodeInvalid, "request body: %v", err)
	}
	return nil
}

// vaultRequest is the vault named in the path and the decoded request body.
func vaultRequest[T any](d *Daemon, r *http.Request) (*vault.Vault, T, error) {
	var req T
	v, err := d.vaultOf(r)
	if err != nil {
		return nil, req, err
	}
	return v, req, decode(r, &req)
}

// listenUnix creates the API socket: parent directory 0755, socket 0660 owned
// by root and the socket group (when that group exists).
func listenUnix(path, group string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("socket directory: %w", err)
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		if group != DefaultConfig().SocketGroup {
			ln.Close()
			return nil, fmt.Errorf("socket_group %q: %w: create the group (groupadd --system %s) or name an existing one", group, err, group)
		}
		return ln, nil // the default group is made by "make install" (sysusers.d); without it only root connects
	}
	gid, _ := strconv.Atoi(g.Gid)
	if err := os.Chown(path, 0, gid); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chown %s to group %s: %w", path, group, err)
	}
	return ln, nil
}

// removeStaleSocket removes a socket file nobody answers on; a live one means
// another daemon runs and is an error, and anything but a socket is refused
// (never deleted).
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("socket path %s exists and is not a socket (mode %s): give --socket a free path, or move that file away", path, fi.Mode())
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return fmt.Errorf("socket %s is in use: another rewind daemon is running (stop it, or pass --socket)", path)
	}
	return os.Remove(path)
}

// serveUnix serves the API on the unix socket, deciding the principal per
// connection from the peer's credentials.
func (d *Daemon) serveUnix(ln net.Listener) *http.Server {
	srv := &http.Server{
		Handler: d.mux,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return withPrincipal(ctx, withSecurityAdmin(peerPrincipal(c, d.cfg.SocketRoles), d.cfg.SecurityAdmins))
		},
		ReadHeaderTimeout: d.cfg.TCP.ReadHeaderTimeout.Duration,
		IdleTimeout:       d.cfg.TCP.IdleTimeout.Duration,
		MaxHeaderBytes:    d.cfg.TCP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("api server stopped", "err", err)
		}
	}()
	return srv
}

// bearer extracts the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}
