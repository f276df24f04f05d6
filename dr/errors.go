package dr

import (
	"errors"
	"fmt"
)

// Error codes: the protocol's (docs/PROTOCOL.md "error") and its
// extensions exists, conflict, unavailable, locked and not_clean. A code says what the
// client may do next (fix the request, sign in, retry, give up); the
// message says, for a person, what was wrong.
const (
	CodeBadRequest   = "bad_request"  // malformed or out of range; fix it
	CodeUnauthorized = "unauthorized" // no, bad or refused credential
	CodeForbidden    = "forbidden"    // the role or a rule does not allow it
	CodeNotFound     = "not_found"    // no such draft, group, label, token...
	CodeBadOp        = "bad_op"       // the op does not fit the draft
	CodeRevAhead     = "rev_ahead"    // a revision beyond the draft's head
	CodeTooLarge     = "too_large"    // over a size or count limit
	CodeRateLimited  = "rate_limited" // too many; retry later
	CodeInternal     = "internal"     // our fault; retry
	CodeExists       = "exists"       // the id or name is taken
	CodeConflict     = "conflict"     // it changed since the client saw it
	CodeUnavailable  = "unavailable"  // storage cannot commit now; nothing changed, retry
	CodeLocked       = "locked"       // the op would change an agreed provision's text
	CodeNotClean     = "not_clean"    // a text exported clean still has brackets
)

// InternalMessage is the message of every error that is not an *Error: its
// detail is for the operator's log, not for the client.
const InternalMessage = "internal error; the operation was not carried out, please retry"

// Error is an error meant for the person at the other end: Code is one of
// the Code constants, Message says what was wrong in words they act on.
// Domain packages and handlers return it (build it with Errorf); the server
// sends Code and Message as they are. Err, if set, is the cause, for
// errors.Is and logs; it is never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message (a *Error reads in a log line the way the
// client reads it).
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and the formatted message. A %w verb
// is allowed and sets the cause (its text becomes part of the message, so
// only wrap causes fit to show).
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	e := &Error{Code: code, Message: err.Error()}
	switch w := err.(type) {
	case interface{ Unwrap() error }:
		e.Err = w.Unwrap()
	case interface{ Unwrap() []error }:
		e.Err = err // several %w: errors.Is looks through each
	}
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, "" for
// nil, CodeInternal for an error that carries no *Error.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the message of the first *Error in err's chain, ""
// for nil, InternalMessage for an error that carries no *Error (its detail
// is not shown).
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return InternalMessage
}

// Prefix returns err with what before its message ("propose: no such
// group"), keeping its code, for a caller that says which of its steps
// was refused. An err that carries no *Error is wrapped as it is and stays
// internal; nil stays nil.
func Prefix(what string, err error) error {
	var e *Error
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &e):
		return fmt.Errorf("%s: %w", what, err)
	}
	return &Error{Code: e.Code, Message: what + ": " + e.Message, Err: err}
}
