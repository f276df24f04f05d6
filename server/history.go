package server

// Revision history in the live server (docs/PROTOCOL.md section 2.3): the
// per-draft authorship observer, naming a revision (a number, a label or a
// time), the text and the authorship of a draft at any revision, diffs,
// the timeline, exports and imports. The HTTP endpoints and the WebSocket
// replay are in history_api.go; the pure building blocks in package
// history.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// authorsMetaEvery: the authorship section goes with every k-th snapshot
// the draft's owner writes (the first after the draft loads, then every
// k-th). Marshalling it is most of the owner's stall at a snapshot (about
// 4.5 ms of CPU for automerge-paper's 104,852 code points typed key by
// key, against 1.4 ms for the text and the bracket section), so writing it
// every 4th snapshot cuts that stall to once per 4 x SnapshotEvery
// revisions, and its storage by four, for a replay of at most
// 4 x SnapshotEvery ops when an older revision's authorship is rebuilt.
const authorsMetaEvery = 4

// authorsObserver is the draft's authorship (history.Observer) with its
// section persisted with every authorsMetaEvery-th snapshot only.
type authorsObserver struct {
	*history.Observer
	snaps int // Meta calls so far (one per snapshot)
}

// ApplyOp implements Observer: authorship needs the op only.
func (o *authorsObserver) ApplyOp(op dr.Op, _ *ot.Text) {
	o.Apply(op.Op, op.Rev, op.By)
}

// Meta implements Observer.
func (o *authorsObserver) Meta() (string, json.RawMessage) {
	o.snaps++
	if (o.snaps-1)%authorsMetaEvery != 0 {
		return history.MetaSection, nil
	}
	return o.Observer.Meta()
}

// draftInfo reads a draft's metadata (its head revision) from the store.
func (s *Server) draftInfo(ctx context.Context, doc string) (dr.Draft, error) {
	info, err := s.store.Draft(ctx, doc)
	if err != nil {
		return dr.Draft{}, draftNotFound(doc, err)
	}
	return info, nil
}

// resolveRev turns what a request names a revision by into a revision of
// draft info: a non-negative integer is a revision, anything else the name
// of one of the draft's labels. Errors: not_found (no such label),
// rev_ahead (beyond the head), bad_request.
func (s *Server) resolveRev(ctx context.Context, info dr.Draft, param, v string) (int, error) {
	if v == "" {
		return 0, dr.Errorf(dr.CodeBadRequest, "%s is empty: give a revision number or a label", param)
	}
	if dr.IsDigits(v) {
		rev, err := strconv.Atoi(v)
		if err != nil {
			return 0, dr.Errorf(dr.CodeBadRequest, "%s %q is not a revision", param, dr.Clip(v))
		}
		if rev > info.Rev {
			return 0, dr.Errorf(dr.CodeRevAhead, "%s %d is ahead of draft %s (at %d)", param, rev, info.ID, info.Rev)
		}
		return rev, nil
	}
	if strings.HasPrefix(v, "-") && dr.IsDigits(v[1:]) {
		return 0, dr.Errorf(dr.CodeBadRequest, "%s must not be negative", param)
	}
	list, err := s.store.Labels(ctx, info.ID)
	if err != nil {
		return 0, fmt.Errorf("labels %s: %w", info.ID, err)
	}
	for _, l := range list {
		if l.Name == v {
			return l.Rev, nil
		}
	}
	return 0, dr.Errorf(dr.CodeNotFound, "draft %s has no revision or label %q", info.ID, dr.Clip(v))
}

// parseAt reads a point in time: Unix milliseconds, or RFC 3339.
func parseAt(v string) (int64, error) {
	if dr.IsDigits(v) {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			return ms, nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, dr.Errorf(dr.CodeBadRequest, "at must be Unix milliseconds or an RFC 3339 time such as 2026-11-23T14:00:00Z, got %q", dr.Clip(v))
	}
	return t.UnixMilli(), nil
}

// revAt is the last revision of a draft committed at or before at (Unix
// ms); 0 before its first op.
func (s *Server) revAt(ctx context.Context, info dr.Draft, at int64) (int, error) {
	rev, err := history.RevAt(ctx, s.opLoader(info.ID), info.Rev, at)
	if err != nil {
		return 0, fmt.Errorf("rev at %d of %s: %w", at, info.ID, err)
	}
	return rev, nil
}

// opLoader is the store's Ops bound to one draft.
func (s *Server) opLoader(doc string) history.Loader {
	return func(ctx context.Context, from, to int) ([]dr.Op, error) {
		return s.store.Ops(ctx, doc, from, to)
	}
}

// loadOps reads ops from..to (all of them: a shorter answer is an error)
// into one slice (history.LoadOps).
func (s *Server) loadOps(ctx context.Context, doc string, from, to int) ([]dr.Op, error) {
	return history.LoadOps(ctx, s.store, doc, from, to)
}

// textAt returns the text of draft info at rev (0 <= rev <= info.Rev)
// (history.TextAt).
func (s *Server) textAt(ctx context.Context, info dr.Draft, rev int) (string, error) {
	return history.TextAt(ctx, s.store, info.ID, rev)
}

// withAuthorship calls fn with the authorship of draft info's text at rev.
// At the live draft's current revision fn runs in the draft's owner
// goroutine on the live Authorship (it must be quick and must not keep
// it); at an older one, on an Authorship rebuilt from the nearest snapshot
// with an authorship section plus the ops after it.
func (s *Server) withAuthorship(ctx context.Context, info dr.Draft, rev int, fn func(a *history.Authorship) error) error {
	if rev == info.Rev {
		live := false
		err := s.Do(ctx, info.ID, func(st *DraftState) error {
			if st.Rev() != rev {
				return nil // moved on since info was read: rebuild below
			}
			o, ok := st.Observer(history.MetaSection).(*authorsObserver)
			if !ok {
				return fmt.Errorf("draft %s has no authorship observer", info.ID)
			}
			a, err := o.Authorship()
			if err != nil {
				// Never show a broken attribution: rebuild from the
				// store instead (and say so, it is a bug).
				s.log.Error("live authorship broken; rebuilding from the store", "draft", info.ID, "err", err)
				return nil
			}
			live = true
			return fn(a)
		})
		if err != nil || live {
			return err
		}
	}
	a, err := history.AuthorshipAt(ctx, s.store, info.ID, rev)
	if err != nil {
		return err
	}
	return fn(a)
}

// SpanJSON is a run of the text written by one author (PROTOCOL.md 2.3).
// Initial marks the draft's initial text (revision 0), attributed to the
// draft's creator.
type SpanJSON struct {
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Rev        int    `json:"rev"`
	Delegation string `json:"delegation"`
	Name       string `json:"name"`
	Initial    bool   `json:"initial,omitempty"`
}

// spansJSON converts spans, giving revision 0 (and any text whose author
// is unknown) to the draft's creator, marked initial.
func spansJSON(spans []history.Span, creator dr.Author) []SpanJSON {
	out := make([]SpanJSON, len(spans))
	for i, sp := range spans {
		out[i] = SpanJSON{Start: sp.Start, End: sp.End, Rev: sp.Rev, Delegation: sp.Delegation, Name: sp.Name}
		if sp.Initial() {
			out[i].Delegation, out[i].Name, out[i].Initial = creator.Delegation, creator.Name, true
		}
	}
	// Neighbours that became the same author (the creator typing next to
	// the initial text) stay separate: Initial tells them apart.
	return out
}

// authors returns the authorship spans of draft doc at rev (rev < 0: the
// head). byRev gives one span per revision and author (history.Spans)
// instead of one per change of author.
func (s *Server) authors(ctx context.Context, info dr.Draft, rev int, byRev bool) ([]SpanJSON, error) {
	var spans []history.Span
	err := s.withAuthorship(ctx, info, rev, func(a *history.Authorship) error {
		if byRev {
			spans = a.Spans()
		} else {
			spans = a.AuthorSpans()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return spansJSON(spans, info.By), nil
}

// diff returns the diff of draft info from revision a to revision b
// (history.DiffAt). by attributes each insertion to who wrote it and, when
// a <= b, each deletion to who deleted it.
func (s *Server) diff(ctx context.Context, info dr.Draft, a, b int, by bool) ([]history.Segment, error) {
	var spansAt func() ([]history.Span, error)
	if by {
		spansAt = func() (spans []history.Span, err error) {
			err = s.withAuthorship(ctx, info, b, func(au *history.Authorship) error {
				spans = au.Spans()
				return nil
			})
			return spans, err
		}
	}
	return history.DiffAt(ctx, s.store, info.ID, a, b, info.By, spansAt)
}

// Paging of the timeline.
const (
	defaultHistoryPage = 50
	maxHistoryPage     = 500
)

// EntryJSON is a timeline entry (history.Entry) with what was recorded
// with it: the proposal or decision of a propose or resolve entry, and the
// labels of the revisions it covers.
type EntryJSON struct {
	history.Entry
	Proposal *dr.Proposal  `json:"proposal,omitempty"`
	Decision *DecisionJSON `json:"decision,omitempty"`
	Labels   []dr.Label    `json:"labels,omitempty"`
}

// timeline returns a page of draft info's timeline, newest first, joined
// with its records (history.RecordedPage), and the cursor of the next page
// (0: none).
func (s *Server) timeline(ctx context.Context, info dr.Draft, before, limit int) ([]EntryJSON, int, error) {
	page, next, err := history.RecordedPage(ctx, s.opLoader(info.ID), s.store, info.ID, info.Rev, before, limit)
	if err != nil {
		return nil, 0, err
	}
	out := make([]EntryJSON, len(page))
	for i, e := range page {
		out[i] = EntryJSON{Entry: e.Entry, Proposal: e.Proposal, Labels: e.Labels}
		if e.Decision != nil {
			dj := decisionJSON(*e.Decision)
			out[i].Decision = &dj
		}
	}
	return out, next, nil
}

// putLabel names revision rev (< 0: the head) of draft doc.
func (s *Server) putLabel(ctx context.Context, who dr.Identity, doc, name string, rev *int) (dr.Label, error) {
	if !who.IsFacilitator() {
		return dr.Label{}, dr.Errorf(dr.CodeForbidden, "only a facilitator names versions")
	}
	if err := dr.ValidLabelName(name); err != nil {
		return dr.Label{}, err
	}
	info, err := s.draftInfo(ctx, doc)
	if err != nil {
		return dr.Label{}, err
	}
	r := info.Rev
	if rev != nil {
		if r = *rev; r < 0 {
			return dr.Label{}, dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
		}
		if r > info.Rev {
			return dr.Label{}, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", r, doc, info.Rev)
		}
	}
	l := dr.Label{Draft: doc, Name: name, Rev: r, By: who.Author, TS: s.cfg.Now().UnixMilli()}
	if err := s.store.PutLabel(ctx, l); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return dr.Label{}, dr.Errorf(dr.CodeExists, "draft %s already has a version named %q", doc, name)
		}
		return dr.Label{}, fmt.Errorf("label %s: %w", doc, err)
	}
	s.Audit(ctx, who, ActionLabel, doc, fmt.Sprintf("%q = rev %d", name, r))
	return l, nil
}

// importText commits text, the whole new text of draft doc as its author
// wrote it on revision base, as one op (kind import): the diff from the
// text at base, transformed over whatever was committed since, so that
// what delegations typed meanwhile is kept.
func (s *Server) importText(ctx context.Context, who dr.Identity, doc, text string, base int) (dr.Op, ot.Op, error) {
	if err := s.checkImportText(who, text, base); err != nil {
		return dr.Op{}, nil, err
	}
	info, err := s.draftInfo(ctx, doc)
	if err != nil {
		return dr.Op{}, nil, err
	}
	if base > info.Rev {
		return dr.Op{}, nil, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", base, doc, info.Rev)
	}
	old, err := s.textAt(ctx, info, base)
	if err != nil {
		return dr.Op{}, nil, err
	}
	// The diff, and its transform over the ops committed since base as
	// far as info.Rev, are computed here, off the draft's owner
	// goroutine, which only transforms it over the few ops committed
	// since info was read.
	diff := ot.FromDiff(old, text)
	pre := diff
	if base < info.Rev {
		since, err := s.loadOps(ctx, doc, base+1, info.Rev)
		if err != nil {
			return dr.Op{}, nil, err
		}
		if pre, err = transformOver(diff, since); err != nil {
			return dr.Op{}, nil, fmt.Errorf("import on %s@%d: %w", doc, base, err)
		}
	}
	committed, err := s.submitBuilt(ctx, doc, who, func(st *DraftState) (Built, error) {
		since, err := opsSince(st, info.Rev)
		if err != nil {
			return Built{}, err
		}
		op, err := transformOver(pre, since)
		if err != nil {
			return Built{}, fmt.Errorf("import on %s@%d: %w", doc, base, err)
		}
		return Built{Op: op, Kind: dr.KindImport}, nil
	})
	if err != nil {
		return dr.Op{}, nil, err
	}
	ins, del := 0, 0
	for _, c := range committed.Op {
		ins += utf8.RuneCountInString(c.Insert)
		del += c.Delete
	}
	s.Audit(ctx, who, ActionImport, doc, fmt.Sprintf("text of rev %d committed as rev %d: %d inserted, %d deleted", base, committed.Rev, ins, del))
	return committed, diff, nil
}

// checkImportText checks who may import text as the new text of a draft
// on revision base.
func (s *Server) checkImportText(who dr.Identity, text string, base int) error {
	if !who.IsFacilitator() {
		return dr.Errorf(dr.CodeForbidden, "only a facilitator imports a revised text")
	}
	if base < 0 {
		return dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
	}
	if utf8.RuneCountInString(text) > s.cfg.MaxDraftLen {
		return dr.Errorf(dr.CodeTooLarge, "drafts are at most %d characters", s.cfg.MaxDraftLen)
	}
	return nil
}

// transformOver transforms op, made on the text before ops, over them (op
// on the left: at a tie its inserts go first).
func transformOver(op ot.Op, ops []dr.Op) (ot.Op, error) {
	for _, c := range ops {
		var err error
		if op, err = ot.Transform(op, c.Op, ot.Left); err != nil {
			return nil, fmt.Errorf("transform over op %d: %w", c.Rev, err)
		}
	}
	return op, nil
}

// exportGroups returns the open bracket groups of draft doc at rev as an
// export shows them: span, alternatives in their reading form, and who
// proposed each (as the bracket listing attributes them).
func (s *Server) exportGroups(ctx context.Context, doc string, rev int) ([]history.ExportGroup, error) {
	l, err := s.bracketListing(ctx, doc, rev)
	if err != nil {
		return nil, err
	}
	out := make([]history.ExportGroup, len(l.res.Groups))
	for i := range l.res.Groups {
		g := groupJSON(&l.res, i, l.opener, l.props)
		out[i] = exportGroup(&g, l.props)
	}
	return out, nil
}

// exportGroup is group g of a listing as an export shows it; props are the
// listing's proposals by group.
func exportGroup(g *GroupJSON, props map[string][]dr.Proposal) history.ExportGroup {
	eg := history.ExportGroup{ID: g.ID, Start: g.Span[0], End: g.Span[1], Alternatives: make([]history.ExportAlternative, len(g.Alternatives))}
	var opened int
	if id, err := brackets.ParseID(g.ID); err == nil {
		opened = id.Rev
	}
	for k, a := range g.Alternatives {
		alt := history.ExportAlternative{Text: brackets.Unescape(a.Text), By: a.By, Rev: opened}
		if a.Source == SourceProposal {
			if p := proposalFor(props[g.ID], k, a.Text); p != nil {
				alt.Rev = p.Rev
			}
		}
		eg.Alternatives[k] = alt
	}
	return eg
}
