package history

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/provisions"
	"github.com/draftroom/draftroom/storage"
)

// DefaultWindow is the pause that ends a timeline entry: consecutive ops of
// one client less than this apart are one edit to a reader.
const DefaultWindow = 3 * time.Second

// EntrySpan caps how much wall time one entry covers: an entry also ends
// where the clock crosses a multiple of EntrySpan (Unix time), so that an
// hour of uninterrupted typing is twelve entries, not one, and a page
// never has to load an unbounded run of ops. Aligning to the clock keeps
// the rule local to two neighbouring ops, which is what makes paging
// stable.
const EntrySpan = 5 * time.Minute

// previewLen is the number of code points of typed text an entry shows.
const previewLen = 80

// Entry is one item of a draft's timeline: one op, or a run of consecutive
// ops of one client (same principal and client id) each less than the
// window after the previous one. Ops of kind propose, resolve and import
// are always entries of their own.
type Entry struct {
	From   int       `json:"from"` // first revision
	To     int       `json:"to"`   // last revision, inclusive
	By     dr.Author `json:"by"`
	Client string    `json:"client"`
	Kind   string    `json:"kind,omitempty"`  // storage.Kind*; "" for typing
	Group  string    `json:"group,omitempty"` // the bracket group of a propose or resolve
	Start  int64     `json:"start"`           // commit time of From, Unix ms
	End    int64     `json:"end"`             // commit time of To, Unix ms
	Ops    int       `json:"ops"`
	// At is where the entry's first change is: the code point offset of
	// the first op's first insert or delete, in the text of revision
	// From-1 (where it was made; later edits may have moved it since).
	At int `json:"at"`
	// Inserted and Deleted count code points over all the entry's ops
	// (typing "helo", a backspace and "lo" is 6 inserted, 1 deleted).
	Inserted int `json:"inserted"`
	Deleted  int `json:"deleted"`
	// Preview is the text the entry typed, as it stood at its end when the
	// typing was in one place (backspaces undo it), up to 80 code points;
	// separate places are joined with " … ".
	Preview string `json:"preview,omitempty"`
	// Summary says what happened in a few words, for a reader.
	Summary string `json:"summary"`
}

// entryBuilder is an Entry while its ops are added.
type entryBuilder struct {
	Entry
	typed     []rune // Preview under construction
	cursor    int    // where the last insert ended; -1 none
	here      int    // code points at the end of typed that were typed at cursor
	truncated bool
}

// continues reports whether op cur (revision prev.Rev+1) belongs to the
// entry of op prev. The rule looks only at the two ops, so every reader of
// any range of the log draws the same boundaries.
func continues(prev, cur *dr.Op, window time.Duration) bool {
	if cur.Rev != prev.Rev+1 || prev.Kind != dr.KindEdit || cur.Kind != dr.KindEdit {
		return false
	}
	if cur.Principal != prev.Principal || cur.Client != prev.Client || cur.By != prev.By {
		return false
	}
	gap := cur.TS - prev.TS
	if gap < 0 || gap >= window.Milliseconds() {
		return false
	}
	span := EntrySpan.Milliseconds()
	return floorDiv(cur.TS, span) == floorDiv(prev.TS, span)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// Timeline groups ops (consecutive revisions, oldest first, as
// storage.Ops returns them) into entries, oldest first. window <= 0 means
// DefaultWindow. The first and last entries may continue outside ops;
// Page deals with that.
func Timeline(ops []dr.Op, window time.Duration) []Entry {
	if window <= 0 {
		window = DefaultWindow
	}
	var entries []Entry
	var b entryBuilder
	for i := range ops {
		op := &ops[i]
		if i == 0 || !continues(&ops[i-1], op, window) {
			if i > 0 {
				entries = append(entries, b.finish())
			}
			b = entryBuilder{
				Entry:  Entry{From: op.Rev, By: op.By, Client: op.Client, Kind: op.Kind, Group: op.Group, Start: op.TS},
				typed:  b.typed[:0],
				cursor: -1,
			}
		}
		b.add(op)
	}
	if len(ops) > 0 {
		entries = append(entries, b.finish())
	}
	return entries
}

// add counts op into e and follows its typing for the preview.
func (e *entryBuilder) add(op *dr.Op) {
	e.To = op.Rev
	e.End = op.TS
	if e.Ops == 0 && len(op.Op) > 0 {
		e.At = op.Op[0].Skip // ops are normalised: a skip comes first, if any
	}
	e.Ops++
	pos := 0
	for _, c := range op.Op {
		switch {
		case c.Skip > 0:
			pos += c.Skip
		case c.Insert != "":
			n := utf8.RuneCountInString(c.Insert)
			e.Inserted += n
			e.typeText(pos, c.Insert)
			pos += n
		case c.Delete > 0:
			e.Deleted += c.Delete
			e.erase(pos, c.Delete)
		}
	}
}

// previewCap is how much typed text an entry keeps while it is built:
// enough for backspaces to undo part of it and still fill the preview.
const previewCap = 4 * previewLen

func (e *entryBuilder) typeText(pos int, s string) {
	if e.cursor != pos {
		if len(e.typed) > 0 {
			e.typed = append(e.typed, []rune(" … ")...)
		}
		e.here = 0
	}
	for _, r := range s {
		if len(e.typed) >= previewCap {
			e.truncated = true
			break
		}
		e.typed = append(e.typed, r)
		e.here++
	}
	e.cursor = pos + utf8.RuneCountInString(s)
}

// erase undoes typed text when the delete is a backspace over what was
// typed at the cursor (and over text before it: the typing goes on from
// there); a delete before the cursor moves it, one across it loses it.
func (e *entryBuilder) erase(pos, n int) {
	switch {
	case e.cursor < 0 || pos >= e.cursor:
	case pos+n == e.cursor:
		if !e.truncated {
			k := min(n, e.here)
			e.typed = e.typed[:len(e.typed)-k]
			e.here -= k
		}
		e.cursor = pos
	case pos+n <= e.cursor:
		e.cursor -= n
	default:
		e.cursor = -1
	}
}

// finish returns the entry with its Preview and Summary.
func (e *entryBuilder) finish() Entry {
	e.typed = trimSeparator(e.typed)
	if len(e.typed) > previewLen || (e.truncated && len(e.typed) > 0) {
		e.Preview = string(e.typed[:min(len(e.typed), previewLen)]) + "…"
	} else {
		e.Preview = string(e.typed)
	}
	switch e.Kind {
	case dr.KindPropose:
		e.Summary = fmt.Sprintf("proposed an alternative in %s", orUnknown(e.Group))
	case dr.KindResolve:
		e.Summary = fmt.Sprintf("resolved %s", orUnknown(e.Group))
	case dr.KindImport:
		e.Summary = fmt.Sprintf("imported a new version (%d added, %d removed)", e.Inserted, e.Deleted)
	case provisions.KindRenumber:
		e.Summary = "renumbered the provisions and their cross-references"
	case provisions.KindPackage:
		pkg, _, _ := strings.Cut(e.Group, "=")
		e.Summary = fmt.Sprintf("made package %s", pkg)
	default:
		if st, ok := provisions.StatusOfKind(e.Kind); ok {
			e.Summary = fmt.Sprintf("set %s to %s", strings.ReplaceAll(e.Group, ",", ", "), strings.ReplaceAll(string(st), "_", " "))
			break
		}
		switch {
		case e.Inserted > 0 && e.Deleted > 0 && e.Preview != "":
			e.Summary = fmt.Sprintf("deleted %s, typed %q", characters(e.Deleted), e.Preview)
		case e.Preview != "":
			e.Summary = fmt.Sprintf("typed %q", e.Preview)
		case e.Deleted > 0:
			e.Summary = fmt.Sprintf("deleted %s", characters(e.Deleted))
		default:
			e.Summary = "edited"
		}
	}
	return e.Entry
}

// trimSeparator drops a " … " left at the end of typed when the typing
// after it was all erased.
func trimSeparator(typed []rune) []rune {
	sep := []rune(" … ")
	if len(typed) >= len(sep) && string(typed[len(typed)-len(sep):]) == string(sep) {
		return typed[:len(typed)-len(sep)]
	}
	return typed
}

func orUnknown(group string) string {
	if group == "" {
		return "a bracket group"
	}
	return "bracket group " + group
}

func characters(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

// Loader returns a draft's committed ops from..to inclusive, oldest first,
// clipped to the head (storage's Ops bound to one draft id).
type Loader func(ctx context.Context, from, to int) ([]dr.Op, error)

// pageChunk is the first number of ops Page loads; it doubles while a page
// is not complete.
const pageChunk = 1024

// Page returns up to limit timeline entries, newest first, of the entries
// that end before revision before (before <= 0 or > head means the whole
// history up to head). next is the cursor for the following page, the From
// of the oldest entry returned, or 0 when there is nothing older.
//
// Paging is stable: the cursor is always an entry boundary, and boundaries
// depend only on neighbouring ops (see continues), so the pages of a
// history concatenate to Timeline of the whole history, and a page does
// not change when ops are appended. A before that is not a boundary cuts
// the entry it falls in. Page loads ops backwards from before in chunks,
// only as far as it needs to close the oldest entry it returns (the first
// page of 50 entries over automerge-paper's 259,778 ops reads 3,072), and
// never modifies what load returns. Errors from load are returned wrapped.
func Page(ctx context.Context, load Loader, head, before, limit int, window time.Duration) (entries []Entry, next int, err error) {
	if before <= 0 || before > head+1 {
		before = head + 1
	}
	if limit <= 0 || before <= 1 {
		return nil, 0, nil
	}
	hi := before - 1
	lo := hi + 1
	var ops []dr.Op
	for chunk := pageChunk; ; chunk *= 2 {
		from := max(1, lo-chunk)
		older, err := load(ctx, from, lo-1)
		if err != nil {
			return nil, 0, fmt.Errorf("history page before %d: load ops %d..%d: %w", before, from, lo-1, err)
		}
		if len(older) != lo-from {
			return nil, 0, fmt.Errorf("history page before %d: load ops %d..%d returned %d: %w", before, from, lo-1, len(older), storage.ErrNotFound)
		}
		// A new slice: appending to older could write into the loader's
		// own storage.
		ops = append(append(make([]dr.Op, 0, len(older)+len(ops)), older...), ops...)
		lo = from
		all := Timeline(ops, window)
		complete := all
		if lo > 1 {
			complete = all[1:] // the oldest may start before lo
		}
		if len(complete) >= limit || lo == 1 {
			n := min(limit, len(complete))
			page := make([]Entry, n)
			for i := range page {
				page[i] = complete[len(complete)-1-i]
			}
			if n > 0 && page[n-1].From > 1 {
				next = page[n-1].From
			}
			return page, next, nil
		}
	}
}

// String renders an entry on one line, for logs and tests.
func (e Entry) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d..%d %s/%s", e.From, e.To, e.By.Delegation, e.By.Name)
	if e.Kind != "" {
		fmt.Fprintf(&sb, " [%s]", e.Kind)
	}
	fmt.Fprintf(&sb, " %s", e.Summary)
	return sb.String()
}

// RevAt returns the last revision committed at or before at (Unix ms): the
// revision a reader means by "the text as it stood then"; 0 when at is
// before the first op. It binary-searches the op log through load, one op
// per step (about 18 loads over 259,778 ops), relying on commit times
// that do not decrease with the revision, as the draft's owner assigns
// them. Errors from load are returned wrapped.
func RevAt(ctx context.Context, load Loader, head int, at int64) (int, error) {
	lo, hi := 0, head // invariant: ts(lo) <= at (rev 0 counts as -inf), ts(hi+1) > at
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		ops, err := load(ctx, mid, mid)
		if err != nil {
			return 0, fmt.Errorf("history: revision at %d: load op %d: %w", at, mid, err)
		}
		if len(ops) != 1 || ops[0].Rev != mid {
			return 0, fmt.Errorf("history: revision at %d: load op %d returned %d ops: %w", at, mid, len(ops), storage.ErrNotFound)
		}
		if ops[0].TS <= at {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo, nil
}
