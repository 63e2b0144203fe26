package s3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
)

// Retry bounds: at most retryAttempts tries of one request, backing off from
// retryBase doubling to retryMax, and no new try after retryBudget. A target
// whose request failed on the network or with 5xx after every try is down for downFor:
// requests then get a single try, so reads fail fast and reconstruct elsewhere.
var (
	retryAttempts = 5
	retryBase     = 100 * time.Millisecond
	retryMax      = 2 * time.Second
	retryBudget   = 20 * time.Second
	downFor       = 10 * time.Second
	tryTimeout    = 30 * time.Second
)

// health remembers that a target is unreachable.
type health struct {
	mu        sync.Mutex
	downUntil time.Time
}

func (h *health) attempts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Now().Before(h.downUntil) {
		return 1
	}
	return retryAttempts
}

// record marks the target down after a request that still failed on the
// network or with a server error when its tries ran out; any other outcome
// (success, a missing object, a refused request) shows the server answers.
func (h *health) record(ctx context.Context, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil && retryable(ctx, err):
		h.downUntil = time.Now().Add(downFor)
	case ctx.Err() == nil:
		h.downUntil = time.Time{}
	}
}

// do runs op until it succeeds, fails for good, or the bounds run out. Each
// try gets a deadline that allows for moving size bytes at 1 MiB/s.
func (h *health) do(ctx context.Context, size int, op func(context.Context) error) error {
	start := time.Now()
	n := h.attempts()
	perTry := tryTimeout + time.Duration(size>>20)*time.Second
	var err error
	for try := 0; try < n; try++ {
		if try > 0 && !sleep(ctx, backoff(try), start) {
			break
		}
		if err = once(ctx, perTry, op); err == nil || !retryable(ctx, err) {
			break
		}
	}
	h.record(ctx, err)
	return err
}

func once(ctx context.Context, d time.Duration, op func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return op(ctx)
}

func backoff(try int) time.Duration {
	return min(retryBase<<(try-1), retryMax)
}

// sleep waits d unless ctx ends or the retry budget would be spent.
func sleep(ctx context.Context, d time.Duration, start time.Time) bool {
	if time.Since(start)+d > retryBudget {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retryable: server errors, throttling, timeouts and connection failures.
// Not: the caller's cancellation, missing objects, auth or request errors.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.StatusCode != 0 {
		switch er.Code {
		case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "XMinioServerNotInitialized":
			return true
		}
		return er.StatusCode >= 500 || er.StatusCode == 429
	}
	return isNetwork(err)
}

// isNetwork reports a transport failure: refused, reset, timeout, cut body.
// A certificate or TLS mismatch is not one: trying again cannot fix it.
func isNetwork(err error) bool {
	if isTLSConfig(err) {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded)
}

func isTLSConfig(err error) bool {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ve *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &rh) || errors.As(err, &ve)
}
