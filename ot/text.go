package ot

import "unicode/utf8"

// Text holds a draft's text. This first version keeps a plain string (each
// edit copies it); the rope replaces it without changing the API.
type Text struct{ s string }

// NewText returns a Text holding s.
func NewText(s string) *Text { return &Text{s: s} }

// Len returns the length in code points.
func (t *Text) Len() int { return utf8.RuneCountInString(t.s) }

// String returns the whole text.
func (t *Text) String() string { return t.s }

// Slice returns code points [from, to), clamped to the text.
func (t *Text) Slice(from, to int) string {
	from = runeOffset(t.s, max(from, 0))
	to = runeOffset(t.s, max(to, 0))
	if from >= to {
		return ""
	}
	return t.s[from:to]
}

// Apply applies op atomically and returns its inverse.
func (t *Text) Apply(op Op) (inverse Op, err error) {
	inv, err := MakeInvertible(t.s, op)
	if err != nil {
		return nil, err
	}
	s, err := Apply(t.s, op)
	if err != nil {
		return nil, err
	}
	t.s = s
	return Invert(inv)
}
