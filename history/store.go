package history

// History queries against a store: the text, ops and authorship of a draft
// at any revision, read from the nearest snapshot and the ops after it.

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Reader is the part of a store the history queries read; every storage
// backend has it.
type Reader interface {
	// Snapshot returns the newest snapshot at or before rev.
	Snapshot(ctx context.Context, id string, rev int) (dr.Snapshot, error)
	// Ops returns the ops from..to (inclusive) that the log holds.
	Ops(ctx context.Context, id string, from, to int) ([]dr.Op, error)
}

// opsChunk is how many ops LoadOps asks the store for at once: a store
// sizes its answer for about this many (storage.Bolt starts at 1,024), so
// longer ranges are read in chunks into one slice rather than grown inside
// the store, which was three quarters of the cost of reading 50,000 ops.
const opsChunk = 1024

// LoadOps reads ops from..to of draft doc (all of them: a shorter answer
// is an error) into one slice, in chunks.
func LoadOps(ctx context.Context, r Reader, doc string, from, to int) ([]dr.Op, error) {
	if from > to {
		return nil, nil
	}
	out := make([]dr.Op, 0, to-from+1)
	for next := from; next <= to; {
		chunk, err := r.Ops(ctx, doc, next, min(to, next+opsChunk-1))
		if err != nil {
			return nil, err
		}
		if len(chunk) == 0 {
			break
		}
		out = append(out, chunk...)
		next = chunk[len(chunk)-1].Rev + 1
	}
	if len(out) != to-from+1 {
		return nil, fmt.Errorf("ops %s %d..%d: the store returned %d", doc, from, to, len(out))
	}
	return out, nil
}

// TextAt returns the text of draft doc at rev (0 <= rev <= its head): the
// nearest snapshot at or before rev plus the ops after it (at most about
// SnapshotEvery of them, as the draft's owner writes a snapshot that often).
func TextAt(ctx context.Context, r Reader, doc string, rev int) (string, error) {
	snap, err := r.Snapshot(ctx, doc, rev)
	if err != nil {
		return "", fmt.Errorf("text %s@%d: %w", doc, rev, err)
	}
	if snap.Rev == rev {
		return snap.Text, nil
	}
	ops, err := r.Ops(ctx, doc, snap.Rev+1, rev)
	if err != nil {
		return "", fmt.Errorf("text %s@%d: %w", doc, rev, err)
	}
	if len(ops) != rev-snap.Rev {
		return "", fmt.Errorf("text %s@%d: the store has %d ops after snapshot %d", doc, rev, len(ops), snap.Rev)
	}
	text := ot.NewText(snap.Text)
	for _, op := range ops {
		if _, err := text.Apply(op.Op); err != nil {
			return "", fmt.Errorf("text %s@%d: op %d: %w", doc, rev, op.Rev, err)
		}
	}
	return text.String(), nil
}

// AuthorshipAt rebuilds the authorship of draft doc at rev from the
// nearest snapshot with an authorship section (sections may go with only
// some snapshots) and the ops after it.
func AuthorshipAt(ctx context.Context, r Reader, doc string, rev int) (*Authorship, error) {
	snap, err := r.Snapshot(ctx, doc, rev)
	var a *Authorship
	for err == nil {
		var ok bool
		if a, ok, err = FromSnapshot(snap); err != nil || ok {
			break
		}
		snap, err = r.Snapshot(ctx, doc, snap.Rev-1)
	}
	if err != nil {
		return nil, fmt.Errorf("authorship of %s@%d: %w", doc, rev, err)
	}
	if snap.Rev < rev {
		ops, err := LoadOps(ctx, r, doc, snap.Rev+1, rev)
		if err != nil {
			return nil, fmt.Errorf("authorship of %s@%d: %w", doc, rev, err)
		}
		if err := a.ApplyOps(ops); err != nil {
			return nil, fmt.Errorf("authorship of %s@%d: %w", doc, rev, err)
		}
	}
	if a.Rev() != rev {
		return nil, fmt.Errorf("authorship of %s@%d: the op log ends at %d", doc, rev, a.Rev())
	}
	return a, nil
}

// AttributeDiff attributes the segments of the diff from text a (lenA code
// points) to text b: each insertion to who wrote it (spans, the authorship
// of b; the initial text, revision 0, to the draft's creator) and, with
// ops the ops from a to b (nil when b is not after a), each deletion to
// who deleted it.
func AttributeDiff(segs []Segment, spans []Span, creator dr.Author, lenA int, ops []dr.Op) ([]Segment, error) {
	segs = Attribute(segs, spans)
	for i := range segs {
		if segs[i].Op == OpInsert && segs[i].Rev == 0 && segs[i].Delegation == "" {
			segs[i].Delegation, segs[i].Name = creator.Delegation, creator.Name
		}
	}
	if len(ops) == 0 {
		return segs, nil
	}
	return AttributeDeletes(segs, lenA, ops)
}

// DiffAt returns the diff of draft doc from revision a to revision b
// (both at most its head), read from r. With spansAt (the authorship spans
// of the text at b) each insertion is attributed to who wrote it and, when
// a < b, each deletion to who deleted it (AttributeDiff); with nil, the
// diff is not attributed.
func DiffAt(ctx context.Context, r Reader, doc string, a, b int, creator dr.Author, spansAt func() ([]Span, error)) ([]Segment, error) {
	ta, err := TextAt(ctx, r, doc, a)
	if err != nil {
		return nil, err
	}
	tb := ta
	if b != a {
		if tb, err = TextAt(ctx, r, doc, b); err != nil {
			return nil, err
		}
	}
	segs := Diff(ta, tb)
	if spansAt == nil {
		return segs, nil
	}
	spans, err := spansAt()
	if err != nil {
		return nil, err
	}
	var ops []dr.Op
	if a < b {
		if ops, err = LoadOps(ctx, r, doc, a+1, b); err != nil {
			return nil, fmt.Errorf("diff %s %d..%d: %w", doc, a, b, err)
		}
	}
	if segs, err = AttributeDiff(segs, spans, creator, utf8.RuneCountInString(ta), ops); err != nil {
		return nil, fmt.Errorf("diff %s %d..%d: %w", doc, a, b, err)
	}
	return segs, nil
}
