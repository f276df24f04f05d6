package brackets

import (
	"errors"
	"fmt"
)

// Refusal returns why a proposal or a resolution was refused, in words a
// delegate acts on, for an error that wraps one of ErrNoGroup, ErrChoice,
// ErrSpan (and the precise ErrSpan… errors), ErrText or ErrBadID; ok is
// false for any other error, whose detail is internal and not for people.
// The words name no id or position: the caller says which request failed.
func Refusal(err error) (words string, ok bool) {
	for _, r := range refusals {
		if errors.Is(err, r.err) {
			return r.words, true
		}
	}
	return "", false
}

// refusals are checked in order: the precise span errors before ErrSpan,
// which each of them wraps.
var refusals = []struct {
	err   error
	words string
}{
	{ErrNoGroup, "no such group"},
	{ErrChoice, "the choice does not fit the group (choose needs an index of one of its alternatives; drop is only for optional text)"},
	{ErrSpanRange, "the selection is no longer in the text; select the words again"},
	{ErrSpanCrosses, "the selection cuts through a bracket; select words inside one alternative, or whole bracketed text with the words around it"},
	{ErrSpanUnbalanced, "the selection holds a '[' or ']' that has no partner; fix that bracket first, or select around it"},
	{ErrSpanEscape, "the selection starts or ends in the middle of an escaped character (a '\\' and what follows it); select one character more or less"},
	{ErrSpanJoins, "the selection touches a bracket (nothing, or only the word \"or\", between them), so the new bracket would become one of its alternatives; propose on that bracket instead, or select words that have other text between them and the bracket"},
	{ErrSpanTooDeep, fmt.Sprintf("brackets would nest more than %d deep there; resolve some of the brackets around the selection first", MaxDepth)},
	{ErrSpan, "the selection cannot be bracketed"},
	{ErrText, "the text is not valid (an empty span needs a text)"},
	{ErrBadID, "a group id is b<rev>.<k>, e.g. b12.3"},
}
