// Package history holds the pure building blocks of a draft's revision
// history: who wrote which code points (Authorship), human-readable diffs
// between two texts (Diff, DiffHTML, Attribute), the timeline of edits a
// person would recognise (Timeline, Page), and exports of a text with its
// bracket groups highlighted and their alternatives footnoted (ExportText,
// ExportMarkdown, ExportHTML, CheckClean).
//
// The package does no I/O and starts no goroutines. Every position and
// length counts Unicode code points, never bytes or UTF-16 units. The
// server glues it to storage and brackets:
//
//   - Live authorship: the draft's owner keeps an Authorship (New(len) at
//     revision 0, or FromSnapshot) and calls Apply(op, rev, by) after each
//     op is committed; Observer wraps this in the server's observer
//     contract. With a snapshot it stores Marshal() under
//     Meta[MetaSection] (about 40 kB for a 100,000 code point draft typed
//     keystroke by keystroke; writing it with every 16th snapshot keeps
//     replays short and the store small).
//   - authors?rev=N: Snapshot(N) → FromSnapshot (if ok is false, an older
//     snapshot) → ApplyOps(Ops(snap.Rev+1, N)) → Spans() (one span per
//     revision and author) or AuthorSpans() (one per change of author,
//     far fewer for text typed key by key).
//   - diff?from=a&to=b: Diff(textA, textB), DiffHTML for format=html;
//     with by=1, Attribute(segs, spans of b) for who wrote each insertion
//     and AttributeDeletes(segs, len(a), Ops(a+1, b)) for who removed each
//     deletion.
//   - history?before=&limit=: Page(ctx, loader over Ops, head, before,
//     limit, DefaultWindow).
//   - text?at=<time>: RevAt(ctx, loader, head, unix ms), then the text at
//     that revision as for ?rev=.
//   - export: ExportText, ExportMarkdown, ExportHTML with the open groups
//     of brackets.Parse converted to ExportGroup; CheckClean for "clean".
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
