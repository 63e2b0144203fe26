package daemon

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// DefaultSocket is where clients find the daemon without --socket or REWIND_SOCKET.
const DefaultSocket = "/run/rewind/rewind.sock"

// Client talks to the daemon's API over its unix socket, or over TCP+TLS with
// a bearer token.
type Client struct {
	http  *http.Client
	base  string
	token string
	where string
}

// NewClient connects through socket (or, when remote is an https:// URL,
// through TCP with token and an optional CA file).
func NewClient(socket, remote, token, caFile string) (*Client, error) {
	if remote != "" {
		return newTCPClient(remote, token, caFile)
	}
	if socket == "" {
		socket = DefaultSocket
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &Client{http: &http.Client{Transport: tr}, base: "http://rewind", where: socket}, nil
}

func newTCPClient(remote, token, caFile string) (*Client, error) {
	u, err := url.Parse(remote)
	if err != nil || u.Scheme != "https" {
		return nil, Errf(CodeInvalid, "--url %q: want https://HOST:PORT", remote)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, Errf(CodeInvalid, "CA file: %v", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, Errf(CodeInvalid, "CA file %s holds no PEM certificate", caFile)
		}
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	return &Client{http: &http.Client{Transport: tr}, base: strings.TrimRight(remote, "/"), token: token, where: remote}, nil
}

// Do sends in (JSON, may be nil) to path and decodes the reply into out (may
// be nil). API errors come back as *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.dialError(err)
	}
	defer resp.Body.Close()
	return decodeReply(resp, out)
}

func decodeReply(resp *http.Response, out any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the daemon's reply: %w", err)
	}
	if resp.StatusCode >= 300 || resp.StatusCode == http.StatusAccepted {
		e := &Error{}
		if json.Unmarshal(b, e) == nil && e.Code != "" {
			return e
		}
		return Errf(CodeInternal, "daemon answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("daemon reply: %w", err)
	}
	return nil
}

func (c *Client) dialError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return Errf(CodeUnavailable, "no rewind daemon at %s: start it (\"systemctl start rewind\" or \"rewind daemon\"), or point --socket / REWIND_SOCKET at it", c.where)
	case errors.Is(err, syscall.EACCES):
		return Errf(CodeForbidden, "permission denied on %s: run as root or as a member of the rewind group", c.where)
	}
	return fmt.Errorf("talking to the daemon at %s: %w", c.where, err)
}
