package server

// The provision messages and endpoints of docs/PROTOCOL.md section 2.5
// (docs/PROVISIONS.md): listing, status changes with their decision
// records, the progress curve.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/provisions"
)

// ActionProvisionStatus is the audit action of a status change.
const ActionProvisionStatus = "provision.status"

// ProvisionJSON is a provision as the API shows it.
type ProvisionJSON struct {
	ID        string            `json:"id"`
	Kind      provisions.Kind   `json:"kind"`
	Num       string            `json:"num"`
	Title     string            `json:"title"`
	Span      [2]int            `json:"span"`
	Parent    *string           `json:"parent"`
	Status    provisions.Status `json:"status"`
	Locked    bool              `json:"locked"`
	LockSpan  *[2]int           `json:"locked_span,omitempty"`
	StatusBy  *dr.Author        `json:"status_by"`
	StatusRev *int              `json:"status_rev"`
	Packages  []string          `json:"packages"`
}

type provisionsJSON struct {
	Type       string          `json:"type,omitempty"`
	Doc        string          `json:"doc"`
	Rev        int             `json:"rev"`
	Provisions []ProvisionJSON `json:"provisions"`
	Ref        json.RawMessage `json:"ref,omitempty"`
}

func provisionJSONs(list []provisions.Listed) []ProvisionJSON {
	out := make([]ProvisionJSON, len(list))
	for i, l := range list {
		p := ProvisionJSON{ID: l.ID, Kind: l.Kind, Num: l.Num, Title: l.Title, Span: l.Span,
			Status: l.Status, Locked: l.Locked, LockSpan: l.LockSpan, Packages: l.Packages}
		if p.Packages == nil {
			p.Packages = []string{}
		}
		if l.Parent >= 0 {
			p.Parent = &list[l.Parent].ID
		}
		if l.Record != nil {
			by, rev := l.Record.By, l.Record.Rev
			p.StatusBy, p.StatusRev = &by, &rev
		}
		out[i] = p
	}
	return out
}

// provisionStatsJSON is the progress: counts by status at each revision
// where they changed, and each article's paragraphs agreed.
type provisionStatsJSON struct {
	Type     string                 `json:"type,omitempty"`
	Doc      string                 `json:"doc"`
	Rev      int                    `json:"rev"`
	Counts   provisions.Counts      `json:"counts"`
	Points   []provisions.StatPoint `json:"points"`
	Articles []provisions.Summary   `json:"articles"`
	Ref      json.RawMessage        `json:"ref,omitempty"`
}

// statusRequest is the body of a status change, over WebSocket or HTTP.
type statusRequest struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Note   string `json:"note"`
	Rev    *int   `json:"rev"`
}

// StatusDecisionJSON is the decision record of a status change: who gave
// provision Provision (named Name) status Status at revision Rev, with
// Note, and its text as it stood.
type StatusDecisionJSON struct {
	Draft     string    `json:"draft"`
	Provision string    `json:"provision"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Note      string    `json:"note"`
	Text      string    `json:"text"`
	By        dr.Author `json:"by"`
	Rev       int       `json:"rev"`
	TS        int64     `json:"ts"`
}

type statusChangedJSON struct {
	Type     string             `json:"type,omitempty"`
	Doc      string             `json:"doc"`
	Rev      int                `json:"rev"`
	Decision StatusDecisionJSON `json:"decision"`
	// Together lists the other provisions of its packages agreed with it.
	Together []string        `json:"together,omitempty"`
	Ref      json.RawMessage `json:"ref,omitempty"`
}

// statusDecisionJSON reads a status change's decision record
// (dr.Decision with the provision id as Group and the status as
// Choice; see setStatus).
func statusDecisionJSON(d dr.Decision, name string) StatusDecisionJSON {
	return StatusDecisionJSON{Draft: d.Draft, Provision: d.Group, Name: name, Status: d.Choice, Note: d.Note,
		Text: d.Result, By: d.By, Rev: d.Rev, TS: d.TS}
}

// setStatus gives provision pid of draft doc a status, as a facilitator
// asked: an op that changes no text, of kind status.<status>, committed
// with its decision record through the draft's owner.
func (s *Server) setStatus(ctx context.Context, who dr.Identity, doc, pid string, req statusRequest) (statusChangedJSON, error) {
	to, err := checkStatus(who, pid, req)
	if err != nil {
		return statusChangedJSON{}, err
	}
	seen, err := s.statusSeenText(ctx, doc, pid, to, req)
	if err != nil {
		return statusChangedJSON{}, err
	}
	var change statusChange
	op, err := s.submitBuilt(ctx, doc, who, func(st *DraftState) (Built, error) {
		c, err := buildStatusChange(st, doc, pid, to, seen, req, who)
		if err != nil {
			return Built{}, err
		}
		change = c
		return Built{Op: ot.Op{}, Kind: provisions.StatusKind(to), Group: strings.Join(c.ids, ","), Decisions: c.decisions}, nil
	})
	if err != nil {
		return statusChangedJSON{}, err
	}
	decision := change.decisions[0]
	decision.Draft, decision.Rev, decision.TS = doc, op.Rev, op.TS
	s.Audit(ctx, who, ActionProvisionStatus, doc, fmt.Sprintf("%s %s at rev %d", pid, to, op.Rev))
	return statusChangedJSON{Doc: doc, Rev: op.Rev, Decision: statusDecisionJSON(decision, change.name), Together: change.ids[1:]}, nil
}

// checkStatus checks who may give provision pid the status req asks for,
// and returns it.
func checkStatus(who dr.Identity, pid string, req statusRequest) (provisions.Status, error) {
	if !who.IsFacilitator() {
		return "", dr.Errorf(dr.CodeForbidden, "only a facilitator sets a provision's status; a %s may not", who.Role)
	}
	to, err := provisions.ParseStatus(req.Status)
	if err != nil {
		return "", err
	}
	if _, err := provisions.ParseID(pid); err != nil {
		return "", dr.Errorf(dr.CodeBadRequest, "%q is not a provision id (p<rev>.<k>)", dr.Clip(pid))
	}
	if utf8.RuneCountInString(req.Note) > maxNoteLen {
		return "", dr.Errorf(dr.CodeBadRequest, "a note is at most %d characters", maxNoteLen)
	}
	if req.Rev != nil && *req.Rev < 0 {
		return "", dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
	}
	return to, nil
}

// seenText is a provision's text as the facilitator saw it; ok false
// when there is none to compare with.
type seenText struct {
	text string
	ok   bool
}

// statusSeenText returns the text of provision pid as the facilitator saw
// it at req.Rev, when they agree it: agreeing it after it changed is a
// conflict (they agree what they read).
func (s *Server) statusSeenText(ctx context.Context, doc, pid string, to provisions.Status, req statusRequest) (seenText, error) {
	if req.Rev == nil || to != provisions.Agreed {
		return seenText{}, nil
	}
	t, ok, err := s.provisionTextAt(ctx, doc, pid, *req.Rev)
	return seenText{text: t, ok: ok}, err
}

// statusChange is a status change as built: the provisions it changes
// (the one asked for first, then its package partners), their decision
// records, and the first one's name.
type statusChange struct {
	ids       []string
	decisions []dr.Decision
	name      string
}

// buildStatusChange builds, inside a BuildFunc, the change of provision
// pid (and its package partners, provisions.Together) to status to, with
// the locks of agreed text pending until it commits.
func buildStatusChange(st *DraftState, doc, pid string, to provisions.Status, seen seenText, req statusRequest, who dr.Identity) (statusChange, error) {
	if req.Rev != nil && *req.Rev > st.Info().Rev {
		return statusChange{}, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", *req.Rev, doc, st.Info().Rev)
	}
	o, err := provisionsOf(st)
	if err != nil {
		return statusChange{}, err
	}
	list := o.listAt(st)
	i, err := provisions.Change(list, pid, to)
	switch {
	case errors.Is(err, provisions.ErrNoProvision):
		return statusChange{}, dr.Errorf(dr.CodeNotFound, "draft %s has no provision %s", doc, pid)
	case err != nil:
		return statusChange{}, err
	}
	name := provisions.Name(list, i)
	if sp := list[i].Span; seen.ok && st.Text().Slice(sp[0], sp[1]) != seen.text {
		return statusChange{}, dr.Errorf(dr.CodeConflict, "%s changed since revision %d; look at it again before agreeing it", name, *req.Rev)
	}
	targets, err := provisions.Together(list, i, o.reg.Partners(pid), to)
	var pe *provisions.PartnerError
	if errors.As(err, &pe) {
		return statusChange{}, dr.Errorf(dr.CodeBadRequest, "%s is in a package with %s, which cannot be agreed with it: %s",
			name, provisions.Name(list, pe.Partner), dr.ErrorMessage(pe.Err))
	}
	c := statusChange{name: name}
	var locks []provisions.Lock
	for _, j := range targets {
		span := list[j].Span
		if to == provisions.Agreed {
			if err := noOpenBracket(st, provisions.Name(list, j), span); err != nil {
				return statusChange{}, err
			}
			locks = append(locks, provisions.LockOf(st.Text(), list, j))
		}
		c.ids = append(c.ids, list[j].ID)
		c.decisions = append(c.decisions, dr.Decision{Group: list[j].ID, Choice: string(to), Result: st.Text().Slice(span[0], span[1]),
			Note: req.Note, By: who.Author})
	}
	if len(locks) > 0 {
		o.pending[st.Rev()+1] = locks
	} else {
		delete(o.pending, st.Rev()+1)
	}
	return c, nil
}

// noOpenBracket refuses to agree text that holds a bracket group (or is
// crossed by one): agreed text has no open brackets.
func noOpenBracket(st *DraftState, name string, span [2]int) error {
	res, err := resultAt(st)
	if err != nil {
		return err
	}
	for _, g := range res.Groups {
		if g.Start < span[1] && g.End > span[0] {
			return dr.Errorf(dr.CodeBadRequest, "%s holds the open bracket group %s at [%d,%d); resolve it before agreeing the text",
				name, g.ID, g.Start, g.End)
		}
	}
	return nil
}

func (s *Server) provisionStats(ctx context.Context, doc string) (provisionStatsJSON, error) {
	st, err := s.provisionsAt(ctx, doc, -1)
	if err != nil {
		return provisionStatsJSON{}, err
	}
	arts := provisions.Summaries(st.list)
	if arts == nil {
		arts = []provisions.Summary{}
	}
	return provisionStatsJSON{Doc: doc, Rev: st.rev, Counts: st.counts, Points: st.points, Articles: arts}, nil
}

func handleProvisionsMsg(ctx context.Context, c *Session, m *Inbound) error {
	rev, err := listingRevWS(c, m)
	if err != nil {
		return err
	}
	st, err := c.s.provisionsAt(ctx, m.Doc, rev)
	if err != nil {
		return err
	}
	c.Send(encode(provisionsJSON{Type: "provisions", Doc: m.Doc, Rev: st.rev, Provisions: provisionJSONs(st.list), Ref: m.Ref}))
	return nil
}

func handleProvisionStatusMsg(ctx context.Context, c *Session, m *Inbound) error {
	if err := checkDocWS(c, m.Doc); err != nil {
		return err
	}
	var req statusRequest
	if err := json.Unmarshal(m.Raw, &req); err != nil {
		return dr.Errorf(dr.CodeBadRequest, "provision_status is {\"doc\",\"id\",\"status\",\"note\",\"rev\"}")
	}
	if req.ID == "" {
		return dr.Errorf(dr.CodeBadRequest, "provision_status needs id, the provision's id")
	}
	out, err := c.s.setStatus(ctx, c.ident, m.Doc, req.ID, req)
	if err != nil {
		return err
	}
	out.Type, out.Ref = "provision_status", m.Ref
	c.Send(encode(out))
	return nil
}

func handleProvisionStatsMsg(ctx context.Context, c *Session, m *Inbound) error {
	if err := checkDocWS(c, m.Doc); err != nil {
		return err
	}
	out, err := c.s.provisionStats(ctx, m.Doc)
	if err != nil {
		return err
	}
	out.Type, out.Ref = "provision_stats", m.Ref
	c.Send(encode(out))
	return nil
}

func (s *Server) getProvisions(w http.ResponseWriter, r *http.Request) error {
	doc, rev, err := s.listingRequest(r)
	if err != nil {
		return err
	}
	st, err := s.provisionsAt(r.Context(), doc, rev)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, provisionsJSON{Doc: doc, Rev: st.rev, Provisions: provisionJSONs(st.list)})
	return nil
}

func (s *Server) getProvisionStats(w http.ResponseWriter, r *http.Request) error {
	_, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	out, err := s.provisionStats(r.Context(), doc)
	return writeResult(w, http.StatusOK, out, err)
}

func (s *Server) postProvisionStatus(w http.ResponseWriter, r *http.Request) error {
	who, doc, req, err := draftRequest[statusRequest](s, w, r)
	if err != nil {
		return err
	}
	out, err := s.setStatus(r.Context(), who, doc, r.PathValue("pid"), req)
	return writeResult(w, http.StatusOK, out, err)
}

// ActionRenumber is the audit action of a renumbering.
const ActionRenumber = "renumber"

// renumberRequest is the body of a renumbering.
type renumberRequest struct {
	Rev     *int `json:"rev"`
	Preview bool `json:"preview"`
}

// NumberJSON is a provision whose number a renumbering changes.
type NumberJSON struct {
	ID   string          `json:"id"`
	Kind provisions.Kind `json:"kind"`
	From string          `json:"from"`
	To   string          `json:"to"`
	Span [2]int          `json:"span"`
}

// renumberJSON is a renumbering's preview, or its result once committed
// (Committed, Rev the revision of its op).
type renumberJSON struct {
	Type       string                  `json:"type,omitempty"`
	Doc        string                  `json:"doc"`
	Rev        int                     `json:"rev"`
	Preview    bool                    `json:"preview"`
	Committed  bool                    `json:"committed"`
	Diff       []provisions.Edit       `json:"diff"`
	Numbers    []NumberJSON            `json:"numbers"`
	References []provisions.Reference  `json:"references"`
	Unresolved []provisions.Unresolved `json:"unresolved"`
	Ref        json.RawMessage         `json:"ref,omitempty"`
}

// renumberView turns a renumbering of the text listed as list into its
// JSON.
func renumberView(doc string, rev int, r provisions.Renumbering, list []provisions.Listed) renumberJSON {
	out := renumberJSON{Doc: doc, Rev: rev, Diff: r.Edits, References: r.References, Unresolved: r.Unresolved,
		Numbers: make([]NumberJSON, len(r.Numbers))}
	for i, n := range r.Numbers {
		out.Numbers[i] = NumberJSON{Kind: n.Kind, From: n.From, To: n.To, Span: n.Span}
		if n.Index < len(list) {
			out.Numbers[i].ID = list[n.Index].ID
		}
	}
	if out.Diff == nil {
		out.Diff = []provisions.Edit{}
	}
	if out.References == nil {
		out.References = []provisions.Reference{}
	}
	if out.Unresolved == nil {
		out.Unresolved = []provisions.Unresolved{}
	}
	return out
}

// renumber previews the renumbering of draft doc at req.Rev, or commits it
// as one op (kind renumber, which may change numbers inside agreed text)
// if the renumbering at the head changes the same numbers and references
// as the one at req.Rev (else conflict: preview again).
func (s *Server) renumber(ctx context.Context, who dr.Identity, doc string, req renumberRequest) (renumberJSON, error) {
	if err := checkRenumber(who, req); err != nil {
		return renumberJSON{}, err
	}
	info, err := s.renumberDraft(ctx, doc, *req.Rev)
	if err != nil {
		return renumberJSON{}, err
	}
	text, err := s.textAt(ctx, info, *req.Rev)
	if err != nil {
		return renumberJSON{}, err
	}
	seen := provisions.Renumber(text)
	if req.Preview {
		st, err := s.provisionsAt(ctx, doc, *req.Rev)
		if err != nil {
			return renumberJSON{}, err
		}
		out := renumberView(doc, *req.Rev, seen, st.list)
		out.Preview = true
		return out, nil
	}
	var out renumberJSON
	op, err := s.submitBuilt(ctx, doc, who, func(st *DraftState) (Built, error) {
		o, err := provisionsOf(st)
		if err != nil {
			return Built{}, err
		}
		now := provisions.Renumber(st.Text().String())
		if !now.SameAs(seen) {
			return Built{}, dr.Errorf(dr.CodeConflict, "the numbering changed since revision %d; preview it again", *req.Rev)
		}
		out = renumberView(doc, st.Rev(), now, o.listAt(st))
		if len(now.Op) == 0 {
			return Built{}, errNothingToRenumber
		}
		return Built{Op: now.Op, Kind: provisions.KindRenumber, Unguarded: true}, nil
	})
	switch {
	case errors.Is(err, errNothingToRenumber):
		return out, nil
	case err != nil:
		return renumberJSON{}, err
	}
	out.Rev, out.Committed = op.Rev, true
	s.Audit(ctx, who, ActionRenumber, doc, fmt.Sprintf("%d numbers, %d references at rev %d", len(out.Numbers), len(out.References), op.Rev))
	return out, nil
}

// checkRenumber checks who may renumber as req asks.
func checkRenumber(who dr.Identity, req renumberRequest) error {
	if !who.IsFacilitator() {
		return dr.Errorf(dr.CodeForbidden, "only a facilitator renumbers a draft; a %s may not", who.Role)
	}
	if req.Rev == nil {
		return dr.Errorf(dr.CodeBadRequest, "renumber needs rev, the revision you previewed (or want to preview)")
	}
	if *req.Rev < 0 {
		return dr.Errorf(dr.CodeBadRequest, "rev must not be negative")
	}
	return nil
}

// renumberDraft returns draft doc's metadata, its head at least rev when
// the draft has reached rev (the store may be behind the owner by a
// commit: then the owner is asked).
func (s *Server) renumberDraft(ctx context.Context, doc string, rev int) (dr.Draft, error) {
	info, err := s.draftInfo(ctx, doc)
	if err != nil {
		return dr.Draft{}, err
	}
	if rev > info.Rev {
		if st, err := s.provisionsAt(ctx, doc, -1); err == nil {
			info.Rev = st.rev
		}
		if rev > info.Rev {
			return dr.Draft{}, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", rev, doc, info.Rev)
		}
	}
	return info, nil
}

// errNothingToRenumber ends a renumbering that changes nothing: nothing is
// committed and the answer says so (committed false).
var errNothingToRenumber = errors.New("server: nothing to renumber")

func handleRenumberMsg(ctx context.Context, c *Session, m *Inbound) error {
	if err := checkDocWS(c, m.Doc); err != nil {
		return err
	}
	var req renumberRequest
	if err := json.Unmarshal(m.Raw, &req); err != nil {
		return dr.Errorf(dr.CodeBadRequest, "renumber is {\"doc\",\"rev\",\"preview\"}")
	}
	out, err := c.s.renumber(ctx, c.ident, m.Doc, req)
	if err != nil {
		return err
	}
	out.Type, out.Ref = "renumber", m.Ref
	c.Send(encode(out))
	return nil
}

func (s *Server) postRenumber(w http.ResponseWriter, r *http.Request) error {
	who, doc, req, err := draftRequest[renumberRequest](s, w, r)
	if err != nil {
		return err
	}
	out, err := s.renumber(r.Context(), who, doc, req)
	return writeResult(w, http.StatusOK, out, err)
}

// getProvisionsExport exports the text at a revision with each provision's
// status, or (agreed=1) only its agreed provisions.
func (s *Server) getProvisionsExport(w http.ResponseWriter, r *http.Request) error {
	info, rev, err := s.historyRevRequest(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = provisions.FormatText
	}
	f, ok := exportFormats[format]
	if !ok {
		return dr.Errorf(dr.CodeBadRequest, "format must be txt, md or html, got %q", dr.Clip(format))
	}
	agreed, err := boolParam(r, "agreed")
	if err != nil {
		return err
	}
	text, err := s.textAt(r.Context(), info, rev)
	if err != nil {
		return err
	}
	st, err := s.provisionsAt(r.Context(), info.ID, rev)
	if err != nil {
		return err
	}
	out, err := provisions.Export(format, info.Title, text, st.list, agreed)
	if err != nil {
		return dr.Errorf(dr.CodeBadRequest, "%s", err.Error())
	}
	name := "status"
	if agreed {
		name = "agreed"
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-rev%d-%s.%s"`, info.ID, rev, name, f.ext))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == provisions.FormatHTML {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	writeRaw(w, f.mediaType, []byte(out))
	return nil
}

// provisionTextAt returns the text of provision pid of draft doc at rev,
// and false if it was not there then.
func (s *Server) provisionTextAt(ctx context.Context, doc, pid string, rev int) (string, bool, error) {
	st, err := s.provisionsAt(ctx, doc, rev)
	if err != nil {
		return "", false, err
	}
	i := provisions.Find(st.list, pid)
	if i < 0 {
		return "", false, nil
	}
	info, err := s.draftInfo(ctx, doc)
	if err != nil {
		return "", false, err
	}
	info.Rev = max(info.Rev, rev)
	text, err := s.textAt(ctx, info, rev)
	if err != nil {
		return "", false, err
	}
	sp := st.list[i].Span
	return string([]rune(text)[sp[0]:sp[1]]), true, nil
}
