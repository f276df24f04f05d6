package server

// The edge: every error a handler, a message handler or the draft owner
// returns becomes a protocol code, a message for people and an HTTP status
// here, in protocolError, and nowhere else. Handlers and domain packages
// speak dr.Error (dr.Errorf(dr.CodeForbidden, "...")); errors of packages
// that do not (ot's op errors, storage's sentinels, a context deadline) are
// translated by the one table below; anything else is internal, logged and
// not shown.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// unavailableMessage is what a client reads when nothing could be
// committed for now (storage down or busy, the server shutting down).
const unavailableMessage = "storage is unavailable, nothing was changed; retry shortly"

// The server's own unavailable errors: the client reads only
// unavailableMessage, the log the detail they are wrapped with.
var (
	// errUnavailable: nothing could be committed for now (the draft busy on
	// other nodes, storage failing); wrapped: fmt.Errorf("%w: ...", errUnavailable).
	errUnavailable = &dr.Error{Code: dr.CodeUnavailable, Message: unavailableMessage}
	// errClosed: the server is shutting down.
	errClosed = fmt.Errorf("server: shutting down (%w)", errUnavailable)
)

// foreignErrors gives a code and a message to the errors of packages that
// do not speak dr, checked in order with errors.Is: message is the words a
// client reads ("" for the code itself), or words says them from the error.
var foreignErrors = []struct {
	err     error
	code    string
	message string
	words   func(error) string
}{
	// An op that does not fit the draft, explained in words.
	{ot.ErrSkipPastEnd, dr.CodeBadOp, "skip runs past the end of the draft", nil},
	{ot.ErrDeletePastEnd, dr.CodeBadOp, "delete runs past the end of the draft", nil},
	{ot.ErrDeleteMismatch, dr.CodeBadOp, "deleted text differs from the draft's text at that position", nil},
	{ot.ErrInvalidUTF8, dr.CodeBadOp, "op contains text that is not valid UTF-8", nil},
	{ot.ErrMalformed, dr.CodeBadOp, "", malformedOp},

	{storage.ErrNotFound, dr.CodeNotFound, "no such draft", nil},
	{storage.ErrExists, dr.CodeExists, "it already exists", nil},
	{storage.ErrUnavailable, dr.CodeUnavailable, unavailableMessage, nil},
	{storage.ErrClosed, dr.CodeUnavailable, unavailableMessage, nil},
	{context.DeadlineExceeded, dr.CodeUnavailable, unavailableMessage, nil},
	// The request's or the session's context ended (the client left, the
	// server shuts down): nothing was carried out, and it is no fault of ours.
	{context.Canceled, dr.CodeUnavailable, unavailableMessage, nil},
}

// protocolError turns any error into what the client is told: a protocol
// code, a message for people and the HTTP status of the code. A *dr.Error
// anywhere in err's chain gives its code and message; a foreign error in
// the table gives its own; anything else is dr.CodeInternal with
// dr.InternalMessage, and the caller logs err.
func protocolError(err error) (code, message string, status int) {
	var e *dr.Error
	if errors.As(err, &e) {
		return e.Code, e.Message, httpStatus(e.Code)
	}
	for _, f := range foreignErrors {
		if !errors.Is(err, f.err) {
			continue
		}
		switch {
		case f.words != nil:
			message = f.words(err)
		case f.message == "":
			message = f.code
		default:
			message = f.message
		}
		return f.code, message, httpStatus(f.code)
	}
	return dr.CodeInternal, dr.InternalMessage, http.StatusInternalServerError
}

// draftNotFound names draft id when err says it does not exist (the
// answer of a lookup of that draft: Server.Do, submitBuilt, draftInfo);
// any other err is returned as it is. The cause stays reachable.
func draftNotFound(id string, err error) error {
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	e := dr.Errorf(dr.CodeNotFound, "no draft %s", id)
	e.Err = err
	return e
}

// errorDetail is what an error object may carry beyond its code and
// message (docs/PROTOCOL.md): the group a stale resolution met
// (conflict), the revision and the positions of the brackets left in a
// text exported clean (not_clean). Unset fields are left out.
type errorDetail struct {
	Group     *GroupJSON `json:"group,omitempty"`
	Rev       *int       `json:"rev,omitempty"`
	Positions []int      `json:"positions,omitempty"`
}

// detailedError is err answered with detail: writeError and errorFrame,
// the two places an error is written, add detail to its error object.
type detailedError struct {
	err    error
	detail errorDetail
}

func (e *detailedError) Error() string { return e.err.Error() }
func (e *detailedError) Unwrap() error { return e.err }

// detailOf is the detail err carries, if any.
func detailOf(err error) errorDetail {
	var de *detailedError
	if errors.As(err, &de) {
		return de.detail
	}
	return errorDetail{}
}

// malformedOp says what is wrong with an op that does not decode (an error
// wrapping ot.ErrMalformed), in the decoder's words.
func malformedOp(err error) string {
	return "malformed op: " + strings.TrimSuffix(err.Error(), ": "+ot.ErrMalformed.Error())
}

// httpStatus is the HTTP status of a protocol code.
func httpStatus(code string) int {
	switch code {
	case dr.CodeBadRequest, dr.CodeBadOp, dr.CodeRevAhead:
		return http.StatusBadRequest
	case dr.CodeUnauthorized:
		return http.StatusUnauthorized
	case dr.CodeForbidden:
		return http.StatusForbidden
	case dr.CodeNotFound:
		return http.StatusNotFound
	case dr.CodeExists, dr.CodeConflict:
		return http.StatusConflict
	case dr.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case dr.CodeRateLimited:
		return http.StatusTooManyRequests
	case dr.CodeUnavailable:
		return http.StatusServiceUnavailable
	case dr.CodeLocked:
		return http.StatusLocked
	case dr.CodeNotClean:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}
