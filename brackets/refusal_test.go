package brackets

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/dr"
)

// TestRefusalWords: each refusal a person can act on is a *dr.Error whose
// message says what to do, in its own words, without the internal detail
// it was wrapped with; the other errors stay internal.
func TestRefusalWords(t *testing.T) {
	tests := []struct {
		err  error
		code string
		want string // a piece of the words
	}{
		{ErrNoGroup, dr.CodeNotFound, "no such group"},
		{ErrChoice, dr.CodeBadRequest, "drop is only for optional text"},
		{ErrSpanRange, dr.CodeBadRequest, "no longer in the text"},
		{ErrSpanCrosses, dr.CodeBadRequest, "cuts through a bracket"},
		{ErrSpanUnbalanced, dr.CodeBadRequest, "has no partner"},
		{ErrSpanEscape, dr.CodeBadRequest, "escaped character"},
		{ErrSpanJoins, dr.CodeBadRequest, "would become one of its alternatives"},
		{ErrSpanTooDeep, dr.CodeBadRequest, fmt.Sprintf("more than %d deep", MaxDepth)},
		{ErrSpan, dr.CodeBadRequest, "the selection cannot be bracketed"},
		{ErrText, dr.CodeBadRequest, "the text is not valid"},
		{ErrBadID, dr.CodeBadRequest, "b<rev>.<k>"},
	}
	seen := map[string]error{}
	for _, tt := range tests {
		wrapped := fmt.Errorf("span [3,9) at 12: %w", tt.err)
		code, words := dr.ErrorCode(wrapped), dr.ErrorMessage(wrapped)
		if code != tt.code || !strings.Contains(words, tt.want) {
			t.Errorf("%v: code %q, words %q; want %q and words with %q", wrapped, code, words, tt.code, tt.want)
		}
		if strings.Contains(words, "[3,9)") || strings.Contains(words, "brackets:") {
			t.Errorf("%v: words %q carry the error's internal detail", wrapped, words)
		}
		if other, dup := seen[words]; dup {
			t.Errorf("%v and %v read the same: %q", other, tt.err, words)
		}
		seen[words] = tt.err
	}
	for _, err := range []error{ErrSpanRange, ErrSpanCrosses, ErrSpanUnbalanced, ErrSpanEscape, ErrSpanJoins, ErrSpanTooDeep} {
		if !errors.Is(err, ErrSpan) {
			t.Errorf("%v does not wrap ErrSpan", err)
		}
	}
	for _, err := range []error{ErrOp, ErrRevision, ErrCorrupt, ErrOutOfSync, errors.New("disk full")} {
		if code := dr.ErrorCode(err); code != dr.CodeInternal {
			t.Errorf("%v: code %q; want internal (its detail is not for people)", err, code)
		}
	}
}

// TestRefusalOfWrap checks the words of what Wrap really returns.
func TestRefusalOfWrap(t *testing.T) {
	r := Parse("keep [a / b] here")
	_, err := r.Wrap(3, 8, "x") // "p [a /": cuts through the group
	if !errors.Is(err, ErrSpan) || dr.ErrorCode(err) != dr.CodeBadRequest || !strings.Contains(dr.ErrorMessage(err), "cuts through a bracket") {
		t.Fatalf("Wrap across a bracket: err %v, code %q, words %q", err, dr.ErrorCode(err), dr.ErrorMessage(err))
	}
}
