package ot

import (
	"fmt"
	"unicode/utf8"
)

// Invert returns the op that undoes op: its inserts become {"d":"s"}
// deletes and its {"d":"s"} deletes become inserts, as ot-text-unicode's
// invert. The result is normal. A {"d":N} delete cannot be undone without
// the draft: Invert then fails with ErrNotInvertible (call MakeInvertible
// first, or use the inverse Text.Apply returns). op must pass Check.
func Invert(op Op) (Op, error) {
	if err := op.Check(); err != nil {
		return nil, err
	}
	out := appender{op: make(Op, 0, len(op))}
	for i, c := range op {
		switch c.kind() {
		case kindSkip:
			out.add(c)
		case kindInsert:
			out.add(Component{Delete: utf8.RuneCountInString(c.Insert), Deleted: c.Insert})
		case kindDelete:
			if c.Deleted == "" {
				return nil, fmt.Errorf("component %d: {d:%d}: %w", i, c.Delete, ErrNotInvertible)
			}
			out.add(Component{Insert: c.Deleted})
		}
	}
	return out.done(), nil
}

// MakeInvertible returns op, normalised, with every {"d":N} delete replaced
// by the {"d":"s"} delete of the text it removes from doc. It fails as
// Apply does when op does not fit doc (ErrSkipPastEnd, ErrDeletePastEnd,
// ErrDeleteMismatch, ErrMalformed, ErrInvalidUTF8).
func MakeInvertible(doc string, op Op) (Op, error) {
	if err := op.Check(); err != nil {
		return nil, err
	}
	if !utf8.ValidString(doc) {
		return nil, fmt.Errorf("draft: %w", ErrInvalidUTF8)
	}
	out := appender{op: make(Op, 0, len(op))}
	at, pre := 0, 0
	for i, c := range op {
		switch c.kind() {
		case kindSkip:
			end, ok := advance(doc, at, c.Skip)
			if !ok {
				return nil, fmt.Errorf("component %d: skip %d from %d: %w", i, c.Skip, pre, ErrSkipPastEnd)
			}
			at = end
			pre += c.Skip
			out.add(c)
		case kindInsert:
			out.add(c)
		case kindDelete:
			end, ok := advance(doc, at, c.Delete)
			if !ok {
				return nil, fmt.Errorf("component %d: delete %d at %d: %w", i, c.Delete, pre, ErrDeletePastEnd)
			}
			if c.Deleted != "" && doc[at:end] != c.Deleted {
				return nil, fmt.Errorf("component %d: delete of %s at %d finds %s: %w", i, short(c.Deleted), pre, short(doc[at:end]), ErrDeleteMismatch)
			}
			out.add(Component{Delete: c.Delete, Deleted: doc[at:end]})
			at = end
			pre += c.Delete
		}
	}
	return out.done(), nil
}
