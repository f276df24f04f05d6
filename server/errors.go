package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// Protocol error codes (PROTOCOL.md "error"), plus the extensions exists,
// conflict, unavailable and locked.
const (
	CodeBadRequest   = "bad_request"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeNotFound     = "not_found"
	CodeBadOp        = "bad_op"
	CodeRevAhead     = "rev_ahead"
	CodeTooLarge     = "too_large"
	CodeRateLimited  = "rate_limited"
	CodeInternal     = "internal"
	CodeExists       = "exists"
	CodeConflict     = "conflict"
	CodeUnavailable  = "unavailable"
	CodeLocked       = "locked" // the op would change an agreed provision's text
)

// Sentinel errors of the server. Handlers return them wrapped with a
// message for people (see Errorf); ErrorCode maps any error to a protocol
// code and message.
var (
	ErrBadRequest   = errors.New("server: bad request")
	ErrUnauthorized = errors.New("server: unauthorized")
	ErrForbidden    = errors.New("server: forbidden")
	ErrNotFound     = errors.New("server: not found")
	ErrBadOp        = errors.New("server: op does not fit the draft")
	ErrRevAhead     = errors.New("server: rev ahead of the draft")
	ErrTooLarge     = errors.New("server: too large")
	ErrRateLimited  = errors.New("server: rate limited")
	ErrExists       = errors.New("server: already exists")
	ErrConflict     = errors.New("server: conflict")
	ErrUnavailable  = errors.New("server: unavailable")
	ErrClosed       = errors.New("server: shutting down")
	ErrLocked       = errors.New("server: agreed text is locked")
)

// publicError is an error whose message is meant for the person at the
// other end; it wraps a sentinel that gives its code.
type publicError struct {
	kind error
	msg  string
}

func (e *publicError) Error() string { return e.msg }
func (e *publicError) Unwrap() error { return e.kind }

// Errorf returns an error of the given kind (one of the sentinels above)
// whose message, shown to the client as is, is the formatted text. It may
// wrap a cause with %w; the cause's text becomes part of the message, so
// only wrap causes that are fit to show.
func Errorf(kind error, format string, args ...any) error {
	return &publicError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// errorCodes is the one mapping from errors to protocol codes, checked in
// order with errors.Is. message is what the client reads when the error
// was not made by Errorf (which carries its own message): words for a
// well-known cause, or "" for the code itself; or, when words is set, the
// words of the error itself, for causes whose package already says what
// is wrong in terms a client acts on.
var errorCodes = []struct {
	err     error
	code    string
	message string
	words   func(error) string
}{
	// An op that does not fit the draft, explained in words.
	{ot.ErrSkipPastEnd, CodeBadOp, "skip runs past the end of the draft", nil},
	{ot.ErrDeletePastEnd, CodeBadOp, "delete runs past the end of the draft", nil},
	{ot.ErrDeleteMismatch, CodeBadOp, "deleted text differs from the draft's text at that position", nil},
	{ot.ErrInvalidUTF8, CodeBadOp, "op contains text that is not valid UTF-8", nil},
	{ot.ErrMalformed, CodeBadOp, "", malformedOp},
	// A token request that is incomplete or out of range (auth.Check).
	{auth.ErrBadRequest, CodeBadRequest, "", badTokenRequest},

	{ErrBadRequest, CodeBadRequest, "", nil},
	{ErrUnauthorized, CodeUnauthorized, "", nil},
	{ErrForbidden, CodeForbidden, "", nil},
	{ErrNotFound, CodeNotFound, "no such draft", nil},
	{storage.ErrNotFound, CodeNotFound, "no such draft", nil},
	{ErrBadOp, CodeBadOp, "", nil},
	{ErrRevAhead, CodeRevAhead, "", nil},
	{ErrTooLarge, CodeTooLarge, "", nil},
	{ErrRateLimited, CodeRateLimited, "", nil},
	{ErrExists, CodeExists, "it already exists", nil},
	{storage.ErrExists, CodeExists, "it already exists", nil},
	{ErrConflict, CodeConflict, "it changed since you saw it", nil},
	{ErrUnavailable, CodeUnavailable, unavailableMessage, nil},
	{ErrLocked, CodeLocked, "", nil},
	{storage.ErrUnavailable, CodeUnavailable, unavailableMessage, nil},
	{ErrClosed, CodeUnavailable, unavailableMessage, nil},
	{storage.ErrClosed, CodeUnavailable, unavailableMessage, nil},
	{context.DeadlineExceeded, CodeUnavailable, unavailableMessage, nil},
}

const unavailableMessage = "storage is unavailable, nothing was changed; retry shortly"

// ErrorCode maps err to a protocol code and a message for people
// (errorCodes). Errors made by Errorf keep their message; well-known
// sentinels get a fixed message; anything else is internal and its detail
// is not shown (the caller logs it: internal reports whether it should).
func ErrorCode(err error) (code, message string, internal bool) {
	var pe *publicError
	if errors.As(err, &pe) {
		for _, c := range errorCodes {
			if errors.Is(pe.kind, c.err) {
				return c.code, pe.msg, false
			}
		}
	}
	for _, c := range errorCodes {
		if !errors.Is(err, c.err) {
			continue
		}
		switch {
		case c.words != nil:
			return c.code, c.words(err), false
		case c.message == "":
			return c.code, c.code, false
		}
		return c.code, c.message, false
	}
	return CodeInternal, "internal error; the operation was not carried out, please retry", true
}

// malformedOp says what is wrong with an op that does not decode (an error
// wrapping ot.ErrMalformed), in the decoder's words.
func malformedOp(err error) string {
	return "malformed op: " + strings.TrimSuffix(err.Error(), ": "+ot.ErrMalformed.Error())
}

// badTokenRequest says what is wrong with a token request, in auth.Check's
// words (an error wrapping auth.ErrBadRequest).
func badTokenRequest(err error) string {
	return strings.TrimPrefix(err.Error(), auth.ErrBadRequest.Error()+": ")
}

// notFoundDraft names draft doc in a storage.ErrNotFound (otherwise err is
// returned as it is).
func notFoundDraft(err error, doc string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return Errorf(ErrNotFound, "no draft %s", doc)
	}
	return err
}

// httpStatus is the HTTP status of a protocol code.
func httpStatus(code string) int {
	switch code {
	case CodeBadRequest, CodeBadOp, CodeRevAhead:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeExists, CodeConflict:
		return http.StatusConflict
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeLocked:
		return http.StatusLocked
	}
	return http.StatusInternalServerError
}
