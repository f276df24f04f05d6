package brackets

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRefusalWords(t *testing.T) {
	tests := []struct {
		err  error
		want string // a piece of the words
	}{
		{ErrNoGroup, "no such group"},
		{ErrChoice, "drop is only for optional text"},
		{ErrSpanRange, "no longer in the text"},
		{ErrSpanCrosses, "cuts through a bracket"},
		{ErrSpanUnbalanced, "has no partner"},
		{ErrSpanEscape, "escaped character"},
		{ErrSpanJoins, "would become one of its alternatives"},
		{ErrSpanTooDeep, fmt.Sprintf("more than %d deep", MaxDepth)},
		{ErrSpan, "the selection cannot be bracketed"},
		{ErrText, "the text is not valid"},
		{ErrBadID, "b<rev>.<k>"},
	}
	seen := map[string]error{}
	for _, tt := range tests {
		wrapped := fmt.Errorf("span [3,9) at 12: %w", tt.err)
		words, ok := Refusal(wrapped)
		if !ok || !strings.Contains(words, tt.want) {
			t.Errorf("Refusal(%v) = %q, %v; want words with %q", wrapped, words, ok, tt.want)
		}
		if strings.Contains(words, "[3,9)") || strings.Contains(words, "brackets:") {
			t.Errorf("Refusal(%v) = %q: it carries the error's internal detail", wrapped, words)
		}
		if other, dup := seen[words]; dup {
			t.Errorf("%v and %v read the same: %q", other, tt.err, words)
		}
		seen[words] = tt.err
	}
	for _, err := range []error{ErrOp, ErrRevision, ErrCorrupt, ErrOutOfSync, errors.New("disk full"), nil} {
		if words, ok := Refusal(err); ok {
			t.Errorf("Refusal(%v) = %q, true; want no words for an internal error", err, words)
		}
	}
}

// TestRefusalOfWrap checks the words of what Wrap really returns.
func TestRefusalOfWrap(t *testing.T) {
	r := Parse("keep [a / b] here")
	_, err := r.Wrap(3, 8, "x") // "p [a /": cuts through the group
	if words, ok := Refusal(err); !ok || !strings.Contains(words, "cuts through a bracket") {
		t.Fatalf("Wrap across a bracket: err %v, Refusal %q %v", err, words, ok)
	}
}
