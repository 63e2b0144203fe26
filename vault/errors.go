package vault

import (
	"errors"
	"fmt"
)

// Error kinds the daemon maps to API codes and CLI exit codes. Every error the
// package returns for a refused request wraps exactly one of them; test with
// errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrExists    = errors.New("already exists")
	ErrInvalid   = errors.New("invalid argument")
	ErrLocked    = errors.New("vault is locked")
	ErrImmutable = errors.New("refused by immutability")
	ErrConflict  = errors.New("conflict")
)

// Error is a refused request: Msg is the user-facing sentence (it names the
// thing and the fix), Kind one of the Err* sentinels, Err an optional cause.
type Error struct {
	Kind error
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap exposes both the kind and the cause to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

func refuse(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error { return refuse(ErrNotFound, format, args...) }
func invalid(format string, args ...any) error  { return refuse(ErrInvalid, format, args...) }
