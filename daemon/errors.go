package daemon

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is an API error's stable machine-readable code (API.md lists them).
type Code string

// The API's error codes. Each maps to one HTTP status and one CLI exit code.
const (
	CodeInvalid          Code = "invalid_argument"
	CodeNotFound         Code = "not_found"
	CodeExists           Code = "already_exists"
	CodeLocked           Code = "vault_locked"
	CodeRefused          Code = "refused" // immutability or policy forbids it
	CodeConflict         Code = "conflict"
	CodeUnauthenticated  Code = "unauthenticated"
	CodeForbidden        Code = "forbidden"
	CodeApprovalRequired Code = "approval_required"
	CodeWrongPassphrase  Code = "wrong_passphrase"
	CodeRateLimited      Code = "rate_limited" // too many failures: retry after RetryAfter seconds
	CodeInternal         Code = "internal"
	CodeUnavailable      Code = "unavailable"
	CodeTooLarge         Code = "too_large" // a request body over the API's limit
)

// Error is what every failing API call returns as its JSON body:
// {"code": "...", "message": "..."}. Message names the thing and the fix.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Request is set with CodeApprovalRequired: the approval request to pass
	// to "rewind approve".
	Request string `json:"request,omitempty"`
	// RetryAfter is set with CodeRateLimited: seconds to wait (also sent as
	// the Retry-After header).
	RetryAfter int `json:"retry_after,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Errf builds an *Error.
func Errf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// HTTPStatus maps a code to its HTTP status.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeInvalid:
		return http.StatusBadRequest
	case CodeNotFound:
		return http.StatusNotFound
	case CodeExists, CodeConflict:
		return http.StatusConflict
	case CodeLocked:
		return http.StatusLocked
	case CodeRefused:
		return http.StatusUnprocessableEntity
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	case CodeForbidden, CodeWrongPassphrase:
		return http.StatusForbidden
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeApprovalRequired:
		return http.StatusAccepted
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// ExitCode maps an error to the CLI's documented exit codes:
// 0 ok, 1 failed, 2 usage, 3 completed with warnings, 4 not found,
// 5 access denied, 6 vault locked.
func ExitCode(err error) int {
	var e *Error
	if !errors.As(err, &e) {
		return 1
	}
	switch e.Code {
	case CodeInvalid, CodeTooLarge:
		return 2
	case CodeNotFound:
		return 4
	case CodeUnauthenticated, CodeForbidden, CodeWrongPassphrase, CodeRateLimited:
		return 5
	case CodeLocked:
		return 6
	}
	return 1
}
