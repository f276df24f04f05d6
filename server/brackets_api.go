package server

// The bracket messages and endpoints of docs/PROTOCOL.md section 2.2:
// listing, proposing, resolving, the "brackets remaining" curve, and the
// proposal and decision records.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// maxNoteLen bounds a resolution's note, in code points.
const maxNoteLen = 2000

// bracketRequest is the body of propose and resolve, over WebSocket or
// HTTP.
type bracketRequest struct {
	Rev    *int    `json:"rev"`
	Group  string  `json:"group"`
	Span   *[2]int `json:"span"`
	Text   *string `json:"text"`
	Choice string  `json:"choice"`
	Index  *int    `json:"index"`
	Note   string  `json:"note"`
}

// proposedJSON answers a proposal: the group (new for a span) and the index
// of the new alternative, committed as revision Rev.
type proposedJSON struct {
	Type        string          `json:"type,omitempty"`
	Doc         string          `json:"doc"`
	Rev         int             `json:"rev"`
	Group       string          `json:"group"`
	Alternative int             `json:"alternative"`
	Ref         json.RawMessage `json:"ref,omitempty"`
}

// resolvedJSON answers a resolution with its decision record.
type resolvedJSON struct {
	Type     string          `json:"type,omitempty"`
	Doc      string          `json:"doc"`
	Rev      int             `json:"rev"`
	Decision DecisionJSON    `json:"decision"`
	Ref      json.RawMessage `json:"ref,omitempty"`
}

// DecisionJSON is a decision record as the API shows it: dr.Decision
// with the index present exactly for choose (storage omits a zero index).
type DecisionJSON struct {
	Draft        string    `json:"draft"`
	Group        string    `json:"group"`
	Alternatives []string  `json:"alternatives"`
	Choice       string    `json:"choice"`
	Index        *int      `json:"index,omitempty"`
	Result       string    `json:"result"`
	Note         string    `json:"note"`
	By           dr.Author `json:"by"`
	Rev          int       `json:"rev"`
	TS           int64     `json:"ts"`
}

func decisionJSON(d dr.Decision) DecisionJSON {
	out := DecisionJSON{Draft: d.Draft, Group: d.Group, Alternatives: d.Alternatives, Choice: d.Choice,
		Result: d.Result, Note: d.Note, By: d.By, Rev: d.Rev, TS: d.TS}
	if d.Choice == dr.ChoiceChoose {
		i := d.Index
		out.Index = &i
	}
	if out.Alternatives == nil {
		out.Alternatives = []string{}
	}
	return out
}

// statsJSON is the "brackets remaining" curve.
type statsJSON struct {
	Doc         string               `json:"doc"`
	Rev         int                  `json:"rev"`
	Open        int                  `json:"open"`
	Diagnostics int                  `json:"diagnostics"`
	Clean       bool                 `json:"clean"`
	Points      []brackets.StatPoint `json:"points"`
}

// propose adds an alternative to a group, or brackets a span as a new
// group, through the draft's owner (Server.submitBuilt), with its Proposal
// record.
func (s *Server) propose(ctx context.Context, who dr.Identity, doc string, req bracketRequest) (proposedJSON, error) {
	if err := checkPropose(who, req); err != nil {
		return proposedJSON{}, err
	}
	out := proposedJSON{Doc: doc}
	op, err := s.submitBuilt(ctx, doc, who, func(st *DraftState) (Built, error) {
		if req.Rev != nil && *req.Rev > st.Info().Rev {
			return Built{}, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", *req.Rev, doc, st.Info().Rev)
		}
		p, ch, err := buildProposal(st, doc, req)
		if err != nil {
			return Built{}, err
		}
		p.By, p.Note = who.Author, req.Note
		out.Group, out.Alternative = p.Group, p.Alternative
		return Built{Op: ch.Op, Kind: dr.KindPropose, Group: p.Group, Proposals: []dr.Proposal{p}}, nil
	})
	if err != nil {
		return proposedJSON{}, err
	}
	out.Rev = op.Rev
	s.auditBounded(who, who.Principal, ActionPropose, doc, fmt.Sprintf("group %s alternative %d at rev %d", out.Group, out.Alternative, out.Rev))
	return out, nil
}

// checkPropose checks who may propose as req asks, and the request's form.
func checkPropose(who dr.Identity, req bracketRequest) error {
	if !who.CanEdit() {
		return dr.Errorf(dr.CodeForbidden, "a %s may not propose alternatives", who.Role)
	}
	if req.Text == nil {
		return dr.Errorf(dr.CodeBadRequest, "propose needs text, the alternative (\"\" proposes nothing: an empty alternative, or the span as optional text)")
	}
	if (req.Group == "") == (req.Span == nil) {
		return dr.Errorf(dr.CodeBadRequest, "propose needs either group (an existing group's id) or span ([start, end] in code points), not both")
	}
	if req.Rev != nil && *req.Rev < 0 {
		return dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
	}
	if utf8.RuneCountInString(req.Note) > maxNoteLen {
		return dr.Errorf(dr.CodeBadRequest, "notes are at most %d characters", maxNoteLen)
	}
	if req.Group != "" {
		if _, err := brackets.ParseID(req.Group); err != nil {
			return dr.Prefix("propose", err)
		}
		return nil
	}
	if req.Rev == nil {
		return dr.Errorf(dr.CodeBadRequest, "a proposal on a span needs rev, the revision the span was taken at")
	}
	if req.Span[0] < 0 || req.Span[1] < req.Span[0] {
		return dr.Errorf(dr.CodeBadRequest, "span must be [start, end] with 0 <= start <= end")
	}
	return nil
}

// buildProposal builds, inside a BuildFunc, the change req proposes at
// st.Rev(): a new alternative of req.Group, or a new group on req.Span
// (taken at req.Rev and brought to st.Rev()), and its proposal record
// (without author and note).
func buildProposal(st *DraftState, doc string, req bracketRequest) (dr.Proposal, brackets.Change, error) {
	res, err := resultAt(st)
	if err != nil {
		return dr.Proposal{}, brackets.Change{}, err
	}
	if req.Group != "" {
		g := res.Find(req.Group)
		if g < 0 {
			return dr.Proposal{}, brackets.Change{}, dr.Errorf(dr.CodeNotFound, "draft %s has no group %s (it may have been resolved)", doc, req.Group)
		}
		ch, err := res.Propose(g, *req.Text)
		if err != nil {
			return dr.Proposal{}, brackets.Change{}, dr.Prefix("propose", err)
		}
		return dr.Proposal{Group: req.Group, Alternative: ch.Alternative, Text: ch.Text}, ch, nil
	}
	a, b, err := spanAt(st, *req.Rev, req.Span[0], req.Span[1])
	if err != nil {
		return dr.Proposal{}, brackets.Change{}, err
	}
	ch, err := res.Wrap(a, b, *req.Text)
	if err != nil {
		return dr.Proposal{}, brackets.Change{}, dr.Prefix(fmt.Sprintf("propose on [%d,%d)", req.Span[0], req.Span[1]), err)
	}
	// The op commits as st.Rev()+1, and its first inserted character is
	// the new group's '['.
	p := dr.Proposal{Group: brackets.ID{Rev: st.Rev() + 1, K: ch.Open}.String(), Alternative: ch.Alternative, Text: ch.Text}
	if *req.Text == "" {
		p.Text = wrappedText(ch)
	}
	return p, ch, nil
}

// spanAt brings the span [a, b), taken at revision rev, to st.Rev(). A span
// whose text was all deleted since is a conflict: the proposal no longer
// has anything to apply to.
func spanAt(st *DraftState, rev, a, b int) (int, int, error) {
	ops, err := opsSince(st, rev)
	if err != nil {
		return 0, 0, err
	}
	na, nb := spanSince(a, b, ops)
	if a < b && na == nb {
		return 0, 0, dr.Errorf(dr.CodeConflict, "the text of span [%d,%d) at revision %d was deleted since", a, b, rev)
	}
	return na, nb, nil
}

// opsSince returns, inside a BuildFunc, the ops after revision rev up to
// st.Rev(): those committed since, then those staged before it.
func opsSince(st *DraftState, rev int) ([]dr.Op, error) {
	ops, err := st.Ops(rev+1, st.Info().Rev)
	if err != nil {
		return nil, err
	}
	return append(ops, st.Staged()...), nil
}

// spanSince moves the span [a, b) through ops (ot.TransformSpan).
func spanSince(a, b int, ops []dr.Op) (int, int) {
	for _, op := range ops {
		a, b = ot.TransformSpan(a, b, op.Op)
	}
	return a, b
}

// wrappedText is, for a Wrap with an empty text, the span as it reads in
// the new group (its top-level '/' escaped): the group's only alternative.
func wrappedText(ch brackets.Change) string {
	inserted := 0
	for _, c := range ch.Op {
		inserted += utf8.RuneCountInString(c.Insert)
	}
	from := ch.Start + 1
	to := from + ch.End - ch.Start + inserted - 2
	cp, start := 0, -1
	for i := range ch.NewText {
		if cp == from {
			start = i
		}
		if cp == to {
			return ch.NewText[start:i]
		}
		cp++
	}
	if start < 0 {
		return ""
	}
	return ch.NewText[start:]
}

// resolve resolves group as the facilitator saw it at req.Rev, through the
// draft's owner, with its Decision record. A group that changed since
// req.Rev is a conflict carrying the group as it stands (a *detailedError).
func (s *Server) resolve(ctx context.Context, who dr.Identity, doc, group string, req bracketRequest) (resolvedJSON, error) {
	res, err := checkResolve(who, group, req)
	if err != nil {
		return resolvedJSON{}, err
	}
	seen, err := s.groupSeen(ctx, doc, group, *req.Rev)
	if err != nil {
		return resolvedJSON{}, err
	}
	var decision dr.Decision
	op, err := s.submitBuilt(ctx, doc, who, func(st *DraftState) (Built, error) {
		d, ch, err := resolveSeen(st, doc, seen, res, req, who)
		if err != nil {
			return Built{}, err
		}
		decision = d
		return Built{Op: ch.Op, Kind: dr.KindResolve, Group: group, Decisions: []dr.Decision{d}}, nil
	})
	if err != nil {
		s.listConflictGroup(ctx, doc, group, err)
		return resolvedJSON{}, err
	}
	decision.Draft, decision.Rev, decision.TS = doc, op.Rev, op.TS
	detail := fmt.Sprintf("%s %s", group, decision.Choice)
	if decision.Choice == dr.ChoiceChoose {
		detail += fmt.Sprintf(" %d", decision.Index)
	}
	s.Audit(ctx, who, ActionBracketResolve, doc, fmt.Sprintf("%s at rev %d", detail, op.Rev))
	return resolvedJSON{Doc: doc, Rev: op.Rev, Decision: decisionJSON(decision)}, nil
}

// checkResolve checks who may resolve group as req asks and returns the
// resolution.
func checkResolve(who dr.Identity, group string, req bracketRequest) (brackets.Resolution, error) {
	if !who.IsFacilitator() {
		return brackets.Resolution{}, dr.Errorf(dr.CodeForbidden, "only a facilitator resolves brackets; a %s may propose alternatives instead", who.Role)
	}
	if req.Rev == nil {
		return brackets.Resolution{}, dr.Errorf(dr.CodeBadRequest, "resolve needs rev, the revision at which you saw the group")
	}
	if *req.Rev < 0 {
		return brackets.Resolution{}, dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
	}
	if group == "" {
		return brackets.Resolution{}, dr.Errorf(dr.CodeBadRequest, "resolve needs group, the id of the group")
	}
	if _, err := brackets.ParseID(group); err != nil {
		return brackets.Resolution{}, dr.Prefix("resolve", err)
	}
	return resolutionOf(req, false)
}

// resolutionOf reads the resolution req asks for, of one group or (every)
// of each group of a package, and checks its note.
func resolutionOf(req bracketRequest, every bool) (brackets.Resolution, error) {
	keepIn, replaced := "", "the group"
	if every {
		keepIn, replaced = " in every group", "every group"
	}
	res := brackets.Resolution{Choice: req.Choice}
	switch req.Choice {
	case brackets.ChoiceChoose:
		if req.Index == nil {
			return res, dr.Errorf(dr.CodeBadRequest, "choose needs index, the alternative to keep%s (0 for the first)", keepIn)
		}
		res.Index = *req.Index
	case brackets.ChoiceDrop:
	case brackets.ChoiceCompromise:
		if req.Text == nil {
			return res, dr.Errorf(dr.CodeBadRequest, "compromise needs text, the text that replaces %s", replaced)
		}
		res.Text = *req.Text
	default:
		return res, dr.Errorf(dr.CodeBadRequest, "choice must be choose, drop or compromise, got %q", dr.Clip(req.Choice))
	}
	if utf8.RuneCountInString(req.Note) > maxNoteLen {
		return res, dr.Errorf(dr.CodeBadRequest, "a note is at most %d characters", maxNoteLen)
	}
	return res, nil
}

// groupSeen returns group as draft doc held it at rev, the revision the
// facilitator saw it at (usually cached: they listed it).
func (s *Server) groupSeen(ctx context.Context, doc, group string, rev int) (brackets.Group, error) {
	seenAt, err := s.bracketListing(ctx, doc, rev)
	if err != nil {
		return brackets.Group{}, err
	}
	gi := seenAt.res.Find(group)
	if gi < 0 {
		return brackets.Group{}, dr.Errorf(dr.CodeNotFound, "draft %s has no group %s at revision %d", doc, group, rev)
	}
	return seenAt.res.Groups[gi], nil
}

// resolveSeen builds, inside a BuildFunc, the resolution of group seen as
// it stands at st.Rev(), and its decision record: a conflict (a *detailedError with the group) if the
// group changed since the facilitator saw it.
func resolveSeen(st *DraftState, doc string, seen brackets.Group, res brackets.Resolution, req bracketRequest, who dr.Identity) (dr.Decision, brackets.Change, error) {
	cur, err := resultAt(st)
	if err != nil {
		return dr.Decision{}, brackets.Change{}, err
	}
	g := cur.Find(seen.ID)
	if g < 0 {
		return dr.Decision{}, brackets.Change{}, dr.Errorf(dr.CodeNotFound, "group %s is no longer in draft %s: it was resolved or deleted after revision %d", seen.ID, doc, *req.Rev)
	}
	if !seen.Same(cur.Groups[g]) {
		o, _ := bracketsOf(st)
		gj := groupJSON(&cur, g, o.Opener, nil)
		return dr.Decision{}, brackets.Change{}, &detailedError{
			err:    dr.Errorf(dr.CodeConflict, "group %s changed since revision %d; here is how it stands at revision %d", seen.ID, *req.Rev, st.Rev()),
			detail: errorDetail{Group: &gj},
		}
	}
	ch, err := cur.Resolve(g, res)
	if err != nil {
		return dr.Decision{}, brackets.Change{}, dr.Prefix("resolve "+seen.ID, err)
	}
	return decisionOf(cur.Groups[g], ch, res, req, who), ch, nil
}

// decisionOf is the decision record of resolving group g with res, as req
// asked and ch did (revision, time and draft are set once committed).
func decisionOf(g brackets.Group, ch brackets.Change, res brackets.Resolution, req bracketRequest, who dr.Identity) dr.Decision {
	alts := make([]string, len(g.Alternatives))
	for i, a := range g.Alternatives {
		alts[i] = a.Text
	}
	d := dr.Decision{Group: g.ID, Alternatives: alts, Choice: req.Choice, Result: ch.Text, Note: req.Note, By: who.Author}
	if req.Choice == brackets.ChoiceChoose {
		d.Index = res.Index
	}
	return d
}

// listConflictGroup puts into a stale resolution's error (a
// *detailedError with its group) the group as it stands, with its
// proposers, as a listing shows it.
func (s *Server) listConflictGroup(ctx context.Context, doc, group string, err error) {
	var de *detailedError
	if !errors.As(err, &de) || de.detail.Group == nil {
		return
	}
	if l, lerr := s.bracketListing(ctx, doc, -1); lerr == nil {
		if cg := l.group(group); cg != nil {
			de.detail.Group = cg
		}
	}
}

// bracketStats returns the curve of open groups.
func (s *Server) bracketStats(ctx context.Context, doc string) (statsJSON, error) {
	var out statsJSON
	err := s.Do(ctx, doc, func(st *DraftState) error {
		o, err := bracketsOf(st)
		if err != nil {
			return err
		}
		// Points may be read after the owner goroutine moves on.
		open, diags := o.Counts()
		out = statsJSON{Doc: doc, Rev: st.Rev(), Open: open, Diagnostics: diags, Clean: open == 0 && diags == 0, Points: o.Points()}
		return nil
	})
	return out, err
}

// listingFrame is the WebSocket "brackets" message of a listing.
func listingFrame(doc string, l *listing, ref json.RawMessage) []byte {
	b := make([]byte, 0, len(l.body)+len(doc)+len(ref)+64)
	b = append(b, `{"type":"brackets","doc":`...)
	b = strconv.AppendQuote(b, doc) // a valid draft id: plain ASCII
	b = append(b, `,"rev":`...)
	b = strconv.AppendInt(b, int64(l.rev), 10)
	b = append(b, ',')
	b = append(b, l.body...)
	if len(ref) > 0 {
		b = append(b, `,"ref":`...)
		b = append(b, ref...)
	}
	return append(b, '}')
}

// checkDocWS checks a message's draft id and the session's access to it.
func checkDocWS(c *Session, doc string) error {
	if err := dr.ValidDraftID(doc); err != nil {
		return err
	}
	if !c.ident.CanAccess(doc) {
		return dr.Errorf(dr.CodeForbidden, "your credential does not give access to draft %s", doc)
	}
	return nil
}

// listingRevWS checks a listing message (brackets, provisions): its draft
// and the session's access to it; it returns the revision asked for (-1:
// the head).
func listingRevWS(c *Session, m *Inbound) (int, error) {
	if err := checkDocWS(c, m.Doc); err != nil {
		return 0, err
	}
	if m.Rev == nil {
		return -1, nil
	}
	if *m.Rev < 0 {
		return 0, dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
	}
	return *m.Rev, nil
}

// listedRev returns, inside Do, the revision a listing of draft doc asks
// for: rev, or the head for -1; rev_ahead beyond the head.
func listedRev(st *DraftState, doc string, rev int) (int, error) {
	cur := st.Rev()
	if rev < 0 {
		return cur, nil
	}
	if rev > cur {
		return 0, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", rev, doc, cur)
	}
	return rev, nil
}

// listingRequest reads a listing request over HTTP (brackets, provisions):
// the draft in the path (draftFor) and ?rev=, a revision number or a
// label's name (history_api.go); -1 without one: the head.
func (s *Server) listingRequest(r *http.Request) (doc string, rev int, err error) {
	if _, doc, err = s.draftFor(r); err != nil {
		return "", 0, err
	}
	rev, err = s.RevParam(r, doc, "rev", -1)
	return doc, rev, err
}

func decodeBracketRequest(raw []byte) (bracketRequest, error) {
	var req bracketRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return req, dr.Errorf(dr.CodeBadRequest, "field %s has the wrong type", te.Field)
		}
		return req, dr.Errorf(dr.CodeBadRequest, "message is not the expected JSON object")
	}
	return req, nil
}

func handleBracketsMsg(ctx context.Context, c *Session, m *Inbound) error {
	rev, err := listingRevWS(c, m)
	if err != nil {
		return err
	}
	l, err := c.s.bracketListing(ctx, m.Doc, rev)
	if err != nil {
		return err
	}
	c.Send(listingFrame(m.Doc, l, m.Ref))
	return nil
}

func handleProposeMsg(ctx context.Context, c *Session, m *Inbound) error {
	if err := checkDocWS(c, m.Doc); err != nil {
		return err
	}
	req, err := decodeBracketRequest(m.Raw)
	if err != nil {
		return err
	}
	out, err := c.s.propose(ctx, c.ident, m.Doc, req)
	if err != nil {
		return err
	}
	out.Type, out.Ref = "proposed", m.Ref
	c.Send(encode(out))
	return nil
}

func handleResolveMsg(ctx context.Context, c *Session, m *Inbound) error {
	if err := checkDocWS(c, m.Doc); err != nil {
		return err
	}
	req, err := decodeBracketRequest(m.Raw)
	if err != nil {
		return err
	}
	out, err := c.s.resolve(ctx, c.ident, m.Doc, req.Group, req)
	if err != nil {
		return err
	}
	out.Type, out.Ref = "resolved", m.Ref
	c.Send(encode(out))
	return nil
}

func (s *Server) getBrackets(w http.ResponseWriter, r *http.Request) error {
	doc, rev, err := s.listingRequest(r)
	if err != nil {
		return err
	}
	l, err := s.bracketListing(r.Context(), doc, rev)
	if err != nil {
		return err
	}
	// The cached body is written as is, between its head and tail: no
	// copy of what may be a megabyte.
	head := make([]byte, 0, len(doc)+40)
	head = append(head, `{"doc":`...)
	head = strconv.AppendQuote(head, doc)
	head = append(head, `,"rev":`...)
	head = strconv.AppendInt(head, int64(l.rev), 10)
	head = append(head, ',')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(l.body)+2))
	w.Write(head)
	w.Write(l.body)
	w.Write([]byte("}\n"))
	return nil
}

func (s *Server) getBracketStats(w http.ResponseWriter, r *http.Request) error {
	_, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	out, err := s.bracketStats(r.Context(), doc)
	return writeResult(w, http.StatusOK, out, err)
}

func (s *Server) postPropose(w http.ResponseWriter, r *http.Request) error {
	who, doc, req, err := draftRequest[bracketRequest](s, w, r)
	if err != nil {
		return err
	}
	out, err := s.propose(r.Context(), who, doc, req)
	return writeResult(w, http.StatusOK, out, err)
}

func (s *Server) postResolve(w http.ResponseWriter, r *http.Request) error {
	who, doc, req, err := draftRequest[bracketRequest](s, w, r)
	if err != nil {
		return err
	}
	out, err := s.resolve(r.Context(), who, doc, r.PathValue("group"), req)
	return writeResult(w, http.StatusOK, out, err)
}

// recordsFor checks that draft doc exists and returns the store to read
// its records from.
func (s *Server) recordsFor(r *http.Request) (string, dr.Store, error) {
	_, doc, err := s.draftFor(r)
	if err != nil {
		return "", nil, err
	}
	if _, err := s.draftInfo(r.Context(), doc); err != nil {
		return "", nil, err
	}
	return doc, s.store, nil
}

func (s *Server) getProposals(w http.ResponseWriter, r *http.Request) error {
	doc, rs, err := s.recordsFor(r)
	if err != nil {
		return err
	}
	list, err := rs.Proposals(r.Context(), doc)
	return writeList(w, "proposals", doc, list, err)
}

func (s *Server) getDecisions(w http.ResponseWriter, r *http.Request) error {
	doc, rs, err := s.recordsFor(r)
	if err != nil {
		return err
	}
	list, err := rs.Decisions(r.Context(), doc)
	if err != nil {
		return fmt.Errorf("decisions %s: %w", doc, err)
	}
	out := make([]DecisionJSON, len(list))
	for i, d := range list {
		out[i] = decisionJSON(d)
	}
	WriteJSON(w, http.StatusOK, map[string]any{"decisions": out})
	return nil
}
