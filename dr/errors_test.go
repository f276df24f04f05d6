package dr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorCodeAndMessage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"nil", nil, "", ""},
		{"plain", Errorf(CodeForbidden, "only a facilitator creates drafts"), CodeForbidden, "only a facilitator creates drafts"},
		{"formatted", Errorf(CodeRevAhead, "rev %d is ahead of the draft (at %d)", 9, 4), CodeRevAhead, "rev 9 is ahead of the draft (at 4)"},
		{"wrapped", fmt.Errorf("propose: %w", Errorf(CodeConflict, "group b1.0 changed")), CodeConflict, "group b1.0 changed"},
		{"twice wrapped", fmt.Errorf("a: %w", fmt.Errorf("b: %w", Errorf(CodeLocked, "agreed"))), CodeLocked, "agreed"},
		{"outermost wins", Errorf(CodeBadRequest, "bad: %w", Errorf(CodeNotFound, "gone")), CodeBadRequest, "bad: gone"},
		{"not ours", errors.New("disk on fire"), CodeInternal, InternalMessage},
		{"not ours wrapped", fmt.Errorf("commit: %w", io.ErrUnexpectedEOF), CodeInternal, InternalMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			if got := ErrorMessage(tc.err); got != tc.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tc.message)
			}
		})
	}
}

// TestErrorfCause: a %w cause stays reachable with errors.Is and As, and
// the message reads as the format says.
func TestErrorfCause(t *testing.T) {
	err := Errorf(CodeUnavailable, "draft d is busy: %w", context.DeadlineExceeded)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, DeadlineExceeded) = false, want true", err)
	}
	if err.Error() != "draft d is busy: context deadline exceeded" || err.Message != err.Error() {
		t.Errorf("Error() = %q, Message = %q; want the formatted text in both", err.Error(), err.Message)
	}
	two := Errorf(CodeBadRequest, "%w and %w", io.EOF, context.Canceled)
	if !errors.Is(two, io.EOF) || !errors.Is(two, context.Canceled) {
		t.Errorf("two causes: errors.Is finds EOF %v, Canceled %v; want both", errors.Is(two, io.EOF), errors.Is(two, context.Canceled))
	}
	if plain := Errorf(CodeBadRequest, "100%% sure"); plain.Err != nil || plain.Message != "100% sure" {
		t.Errorf("no cause: Err = %v, Message = %q; want nil, %q", plain.Err, plain.Message, "100% sure")
	}
	var e *Error
	if !errors.As(fmt.Errorf("x: %w", err), &e) || e.Code != CodeUnavailable {
		t.Errorf("errors.As through a wrap: %v, want the *Error with code %s", e, CodeUnavailable)
	}
}

func TestPrefix(t *testing.T) {
	notFound := Errorf(CodeNotFound, "no such group")
	err := Prefix("resolve b1.0", fmt.Errorf("resolve group 3: %w", notFound))
	if ErrorCode(err) != CodeNotFound || ErrorMessage(err) != "resolve b1.0: no such group" || !errors.Is(err, notFound) {
		t.Errorf("Prefix of a not_found: %q, %q (Is %v); want not_found, \"resolve b1.0: no such group\", true", ErrorCode(err), ErrorMessage(err), errors.Is(err, notFound))
	}
	internal := Prefix("propose", io.ErrUnexpectedEOF)
	if ErrorCode(internal) != CodeInternal || internal.Error() != "propose: unexpected EOF" || !errors.Is(internal, io.ErrUnexpectedEOF) {
		t.Errorf("Prefix of a foreign error: code %q, text %q; want internal, \"propose: unexpected EOF\"", ErrorCode(internal), internal.Error())
	}
	if Prefix("x", nil) != nil {
		t.Error("Prefix of nil is not nil")
	}
}
