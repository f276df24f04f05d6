// Package history holds the pure building blocks of a draft's revision
// history: who wrote which code points (Authorship), human-readable diffs
// between two texts (Diff, DiffHTML), the timeline of edits a person would
// recognise (Timeline, Page), and exports of a text with its bracketed
// alternatives footnoted (Export*).
//
// The package does no I/O and starts no goroutines. The server owns the
// glue: it feeds committed ops to an Authorship, persists it with snapshots
// (Marshal/Unmarshal), loads ops for Page, and turns brackets.Parse results
// into the small Group type Export takes. Every position and length counts
// Unicode code points, never bytes or UTF-16 units.
package history

import "errors"

// Sentinel errors. Functions wrap them with context; callers test them with
// errors.Is.
var (
	// ErrBadOp: an op component is malformed (not exactly one of skip,
	// insert, delete set, or a negative count).
	ErrBadOp = errors.New("history: malformed op")
	// ErrOpPastEnd: an op walks past the end of the text it is applied to,
	// so it was not made on this text. Nothing was changed.
	ErrOpPastEnd = errors.New("history: op runs past the end of the text")
	// ErrOutOfSequence: ops replayed into an Authorship do not follow its
	// revision.
	ErrOutOfSequence = errors.New("history: ops out of sequence")
	// ErrCorrupt: a persisted authorship state does not decode, or its runs
	// do not add up.
	ErrCorrupt = errors.New("history: corrupt authorship state")
	// ErrNotClean: the text still has square brackets in it.
	ErrNotClean = errors.New("history: text still has brackets")
)
