package server

// Documents in and out (docs/DOCUMENTS.md, PROTOCOL.md section 2.7): the
// .docx and Akoma Ntoso exports of GET /api/docs/{id}/export (dispatched
// here from getExport), the import of a marked-up .docx as bracket
// proposals, and the import of an Akoma Ntoso document as a new draft.
// The documents themselves are built and read by the docx and akn
// packages; this file reads the draft, its history and its records, and
// turns their errors into protocol codes.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/akn"
	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/docx"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/provisions"
	"github.com/draftroom/draftroom/storage"
)

// Media types of the documents.
const (
	mediaDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	mediaAKN  = "application/akn+xml"
)

// maxDocumentBytes bounds an uploaded .docx or Akoma Ntoso body. A
// 2,000,000 code point draft is about 8 MB of XML, far less zipped.
const maxDocumentBytes = 64 << 20

// Custom properties the .docx export records, so that an import of the
// marked-up copy knows which draft and revision it was made from.
const (
	propDraft   = "draftroom.draft"
	propRev     = "draftroom.rev"
	propAgainst = "draftroom.against"
)

// documentFormats are the export formats served here rather than by
// getExport's text formats.
var documentFormats = map[string]struct{ mediaType, ext string }{
	"docx": {mediaDocx, "docx"},
	"akn":  {mediaAKN, "xml"},
}

// draftStructure is the structure of text, draft info at rev, read by the
// provisions package as GET /api/docs/{id}/provisions?rev=R lists it (the
// same ids and statuses), and the decision records of the draft up to rev
// (bracket decisions and provision status changes; none if the store
// keeps no records).
func (s *Server) draftStructure(ctx context.Context, info dr.Draft, rev int, text string) (akn.Structure, []provisions.Listed, []dr.Decision, error) {
	st, err := s.provisionsAt(ctx, info.ID, rev)
	if err != nil {
		return akn.Structure{}, nil, nil, err
	}
	all, err := s.store.Decisions(ctx, info.ID)
	if err != nil {
		return akn.Structure{}, nil, nil, fmt.Errorf("export %s@%d: decisions: %w", info.ID, rev, err)
	}
	var decisions []dr.Decision
	for _, dec := range all {
		if dec.Rev <= rev {
			decisions = append(decisions, dec)
		}
	}
	return akn.FromProvisions(text, st.list), st.list, decisions, nil
}

// wordAuthor is how a change's author reads in Word: "FR — Marie Curie".
func wordAuthor(delegation, name string) string {
	switch {
	case delegation != "" && name != "":
		return delegation + " — " + name
	case delegation != "":
		return delegation
	case name != "":
		return name
	}
	return "draftroom"
}

// revTimes returns the commit time of each revision from..to of draft
// doc (from >= 1), and the time of revision to (the draft's creation for
// revision 0).
func (s *Server) revTimes(ctx context.Context, info dr.Draft, from, to int) (map[int]time.Time, time.Time, error) {
	times := map[int]time.Time{}
	at := time.UnixMilli(info.Created).UTC()
	if to < 1 {
		return times, at, nil
	}
	ops, err := s.loadOps(ctx, info.ID, max(from, 1), to)
	if err != nil {
		return nil, at, fmt.Errorf("revision times %s %d..%d: %w", info.ID, from, to, err)
	}
	for _, op := range ops {
		times[op.Rev] = time.UnixMilli(op.TS).UTC()
	}
	if t, ok := times[to]; ok {
		at = t
	}
	return times, at, nil
}

// printHead is the running head of a printed export of draft info at
// rev: "Title — Revision 12 — 4 December 2026 10:04 UTC" (without the
// date if the revision's time cannot be read).
func (s *Server) printHead(ctx context.Context, info dr.Draft, rev int) string {
	head := fmt.Sprintf("%s — Revision %d", info.Title, rev)
	if _, at, err := s.revTimes(ctx, info, rev, rev); err == nil {
		head += " — " + at.Format("2 January 2006 15:04 UTC")
	}
	return head
}

// exportDocument answers an export in one of documentFormats of draft
// info at rev: ?against=Q (docx only) adds the changes since Q as
// tracked changes.
func (s *Server) exportDocument(w http.ResponseWriter, r *http.Request, info dr.Draft, rev int, format string) error {
	ctx := r.Context()
	against := -1
	if r.URL.Query().Get("against") != "" {
		if format != "docx" {
			return dr.Errorf(dr.CodeBadRequest, "against is for format=docx (tracked changes)")
		}
		q, err := s.queryRev(r, info, "against", 0)
		if err != nil {
			return err
		}
		if q > rev {
			return dr.Errorf(dr.CodeBadRequest, "against=%d is after rev=%d; give the earlier revision as against", q, rev)
		}
		against = q
	}
	text, err := s.textAt(ctx, info, rev)
	if err != nil {
		return err
	}
	structure, list, decisions, err := s.draftStructure(ctx, info, rev, text)
	if err != nil {
		return err
	}
	var out []byte
	switch format {
	case "docx":
		out, err = s.exportDocx(ctx, info, rev, against, text, structure.Nodes, list, decisions)
	case "akn":
		out, err = s.exportAKN(ctx, info, rev, structure, decisions)
	}
	if err != nil {
		return err
	}
	f := documentFormats[format]
	name := fmt.Sprintf("%s-rev%d", info.ID, rev)
	if against >= 0 {
		name += fmt.Sprintf("-against-rev%d", against)
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, f.ext))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeRaw(w, f.mediaType, out)
	return nil
}

func (s *Server) exportDocx(ctx context.Context, info dr.Draft, rev, against int, text string, nodes []*akn.Node,
	list []provisions.Listed, decisions []dr.Decision) ([]byte, error) {
	from := rev
	if against >= 0 {
		from = against + 1
	}
	times, at, err := s.revTimes(ctx, info, from, rev)
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf("%s — Rev. %d — %s", info.Title, rev, at.Format("2 January 2006 15:04 UTC"))
	props := map[string]string{propDraft: info.ID, propRev: strconv.Itoa(rev)}
	runs := []docx.Run{{Text: text}}
	if against >= 0 {
		header = fmt.Sprintf("%s — Rev. %d against Rev. %d — %s", info.Title, rev, against, at.Format("2 January 2006 15:04 UTC"))
		props[propAgainst] = strconv.Itoa(against)
		segs, err := s.diff(ctx, info, against, rev, true)
		if err != nil {
			return nil, err
		}
		runs = trackedRuns(segs, times, at)
	}
	// The open bracket groups as comments, in exports without tracked
	// changes only: LibreOffice 7.4 aborts accepting all changes of a
	// document whose comments are anchored in tracked text.
	var comments []docx.Comment
	if against < 0 {
		if comments, err = s.exportComments(ctx, info.ID, rev, at, text, list, decisions); err != nil {
			return nil, err
		}
	}
	out, err := docx.Write(docx.Document{Title: info.Title, Header: header, Properties: props, Runs: runs, Levels: akn.HeadingLevels(nodes), Comments: comments})
	if err != nil {
		return nil, fmt.Errorf("export %s@%d as docx: %w", info.ID, rev, err)
	}
	return out, nil
}

// trackedRuns are the runs of an attributed diff as Word's tracked
// changes, each dated by the commit time of its revision (times; at when
// unknown).
func trackedRuns(segs []history.Segment, times map[int]time.Time, at time.Time) []docx.Run {
	runs := make([]docx.Run, 0, len(segs))
	for _, sg := range segs {
		run := docx.Run{Text: sg.Text}
		switch sg.Op {
		case history.OpInsert:
			run.Mark = docx.Inserted
		case history.OpDelete:
			run.Mark = docx.Deleted
		}
		if run.Mark != docx.Plain {
			run.Author = wordAuthor(sg.Delegation, sg.Name)
			if t, ok := times[sg.Rev]; ok {
				run.Date = t
			} else {
				run.Date = at
			}
		}
		runs = append(runs, run)
	}
	return runs
}

// exportComments are the Word comments of draft doc at rev (text, listed
// as list, with decisions up to rev): its open bracket groups, its
// provisions' statuses and its bracket decisions.
func (s *Server) exportComments(ctx context.Context, doc string, rev int, at time.Time, text string,
	list []provisions.Listed, decisions []dr.Decision) ([]docx.Comment, error) {
	groups, err := s.exportGroups(ctx, doc, rev)
	if err != nil {
		return nil, err
	}
	comments := append(groupComments(groups, at), statusComments(text, list, decisions)...)
	decided, err := s.decisionComments(ctx, doc, rev, text, decisions)
	if err != nil {
		return nil, err
	}
	return append(comments, decided...), nil
}

// groupComments are the Word comments of the open bracket groups at a
// revision: on each group, its alternatives and who proposed each.
func groupComments(groups []history.ExportGroup, at time.Time) []docx.Comment {
	out := make([]docx.Comment, 0, len(groups))
	for _, g := range groups {
		var b strings.Builder
		b.WriteString("Bracket group")
		if g.ID != "" {
			b.WriteString(" " + g.ID)
		}
		if len(g.Alternatives) == 1 {
			b.WriteString(" (optional text)")
		}
		for i, a := range g.Alternatives {
			fmt.Fprintf(&b, "\n%d. “%s”", i+1, a.Text)
			if a.By.Delegation != "" || a.By.Name != "" {
				b.WriteString(" proposed by " + wordAuthor(a.By.Delegation, a.By.Name))
			}
			if a.Rev > 0 {
				fmt.Fprintf(&b, " (rev. %d)", a.Rev)
			}
		}
		out = append(out, docx.Comment{Start: g.Start, End: g.End, Author: "draftroom", Date: at, Text: b.String()})
	}
	return out
}

// statusComments are the Word comments of the provisions given a status
// (their own, not one they hold through an enclosing provision), each on
// its provision's heading line: the status, who gave it at which revision
// and the note of its decision record.
func statusComments(text string, list []provisions.Listed, decisions []dr.Decision) []docx.Comment {
	notes := map[string]string{}
	for _, dec := range decisions {
		notes[fmt.Sprintf("%s@%d", dec.Group, dec.Rev)] = dec.Note
	}
	runes := []rune(text)
	var out []docx.Comment
	for i, l := range list {
		if l.Record == nil || (l.Parent >= 0 && list[l.Parent].Record == l.Record) {
			continue
		}
		end := l.Mark
		for end < len(runes) && runes[end] != '\n' {
			end++
		}
		if end == l.Mark {
			continue
		}
		var b strings.Builder
		name := provisions.Name(list, i)
		fmt.Fprintf(&b, "%s%s: %s", strings.ToUpper(name[:1]), name[1:], statusWords[l.Status])
		if who := wordAuthor(l.Record.By.Delegation, l.Record.By.Name); l.Record.By != (dr.Author{}) {
			b.WriteString(" by " + who)
		}
		fmt.Fprintf(&b, " (rev. %d)", l.Record.Rev)
		if note := notes[fmt.Sprintf("%s@%d", l.ID, l.Record.Rev)]; note != "" {
			b.WriteString("\nNote: " + note)
		}
		out = append(out, docx.Comment{Start: l.Mark, End: end, Author: "draftroom", Date: time.UnixMilli(l.Record.TS).UTC(), Text: b.String()})
	}
	return out
}

// decisionComments are the Word comments of the bracket decisions up to
// rev, each anchored to the text that replaced its group as it stands at
// rev: where the decision's op first changed the text, for the length of
// the result, brought to rev through the ops since. A decision whose
// revision holds others (one op, several groups) or whose result was
// deleted since has no place in the text and no comment.
func (s *Server) decisionComments(ctx context.Context, doc string, rev int, text string, decisions []dr.Decision) ([]docx.Comment, error) {
	first, perRev := rev+1, map[int]int{}
	for _, dec := range decisions {
		if _, err := provisions.ParseID(dec.Group); err == nil || dec.Rev < 1 {
			continue
		}
		first = min(first, dec.Rev)
		perRev[dec.Rev]++
	}
	if len(perRev) == 0 {
		return nil, nil
	}
	ops, err := s.loadOps(ctx, doc, first, rev)
	if err != nil {
		return nil, fmt.Errorf("decision comments %s %d..%d: %w", doc, first, rev, err)
	}
	n := utf8.RuneCountInString(text)
	var out []docx.Comment
	for _, dec := range decisions {
		if perRev[dec.Rev] != 1 {
			continue
		}
		k := dec.Rev - first
		if k < 0 || k >= len(ops) || ops[k].Rev != dec.Rev {
			continue
		}
		a, b := decisionAnchor(dec, ops[k], ops[k+1:])
		if (dec.Result != "" && a == b) || b > n {
			continue
		}
		out = append(out, docx.Comment{Start: a, End: b, Author: "draftroom", Date: time.UnixMilli(dec.TS).UTC(), Text: decisionText(dec)})
	}
	return out, nil
}

// decisionAnchor is where the result of decision dec, committed by op,
// stands after the ops since: from op's first change, for the length of
// the result.
func decisionAnchor(dec dr.Decision, op dr.Op, since []dr.Op) (int, int) {
	a := 0
	for _, c := range op.Op {
		if c.Skip == 0 {
			break
		}
		a += c.Skip
	}
	b := a + utf8.RuneCountInString(dec.Result)
	return spanSince(a, b, since)
}

// decisionText is a bracket decision as a Word comment reads it.
func decisionText(dec dr.Decision) string {
	var t strings.Builder
	fmt.Fprintf(&t, "Bracket group %s decided (%s", dec.Group, dec.Choice)
	if dec.Choice == dr.ChoiceChoose {
		fmt.Fprintf(&t, " alternative %d", dec.Index+1)
	}
	fmt.Fprintf(&t, ") by %s (rev. %d)", wordAuthor(dec.By.Delegation, dec.By.Name), dec.Rev)
	for i, alt := range dec.Alternatives {
		fmt.Fprintf(&t, "\n%d. “%s”", i+1, alt)
	}
	fmt.Fprintf(&t, "\nResult: “%s”", dec.Result)
	if dec.Note != "" {
		t.WriteString("\nNote: " + dec.Note)
	}
	return t.String()
}

// statusWords are the statuses as a comment reads them.
var statusWords = map[provisions.Status]string{
	provisions.Open:     "open (reopened)",
	provisions.Informal: "under informal consultation",
	provisions.Agreed:   "agreed ad referendum",
	provisions.SetAside: "set aside",
}

func (s *Server) exportAKN(ctx context.Context, info dr.Draft, rev int, structure akn.Structure, decisions []dr.Decision) ([]byte, error) {
	_, at, err := s.revTimes(ctx, info, rev, rev)
	if err != nil {
		return nil, err
	}
	d := akn.Document{Title: info.Title, Draft: info.ID, Rev: rev, Date: at, Created: time.UnixMilli(info.Created), Nodes: structure.Nodes}
	for _, dec := range decisions {
		ad := akn.Decision{Group: dec.Group, Choice: dec.Choice, Result: dec.Result, Note: dec.Note,
			Delegation: dec.By.Delegation, Name: dec.By.Name, Rev: dec.Rev, Date: time.UnixMilli(dec.TS)}
		if _, err := provisions.ParseID(dec.Group); err == nil {
			ad.Status, ad.Element = true, structure.EIDs[dec.Group]
		}
		d.Decisions = append(d.Decisions, ad)
	}
	out, err := akn.Export(d)
	if err != nil {
		return nil, fmt.Errorf("export %s@%d as akn: %w", info.ID, rev, err)
	}
	return out, nil
}

// readDocument reads an uploaded document body, at most maxDocumentBytes.
func readDocument(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDocumentBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, dr.Errorf(dr.CodeTooLarge, "documents are at most %d bytes", maxDocumentBytes)
		}
		return nil, dr.Errorf(dr.CodeBadRequest, "could not read the request body")
	}
	return body, nil
}

// postImport imports a document: an Akoma Ntoso body (Content-Type
// application/akn+xml) creates draft {id}; any other body is read as a
// .docx marked up against a revision of the existing draft {id}, whose
// changes become bracket proposals.
func (s *Server) postImport(w http.ResponseWriter, r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case mediaAKN, "application/xml", "text/xml":
		return s.importAKN(w, r)
	default:
		return s.importDocx(w, r)
	}
}

// importedDraftJSON answers an Akoma Ntoso import.
type importedDraftJSON struct {
	ID    string `json:"id"`
	Rev   int    `json:"rev"`
	Title string `json:"title"`
	Chars int    `json:"chars"`
}

func (s *Server) importAKN(w http.ResponseWriter, r *http.Request) error {
	who, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	if !who.IsFacilitator() {
		return dr.Errorf(dr.CodeForbidden, "only a facilitator creates drafts, from Akoma Ntoso or otherwise")
	}
	body, err := readDocument(w, r)
	if err != nil {
		return err
	}
	d, err := akn.Import(body, s.cfg.MaxDraftLen)
	if err != nil {
		return dr.Errorf(dr.CodeBadRequest, "%v", err)
	}
	text := d.Text()
	title := d.Title
	if utf8.RuneCountInString(title) > dr.MaxTitleLen {
		title = string([]rune(title)[:dr.MaxTitleLen])
	}
	now := s.cfg.Now().UnixMilli()
	info := dr.Draft{ID: doc, Title: title, Created: now, Updated: now, By: who.Author}
	if err := s.store.CreateDraft(r.Context(), info, text); err != nil {
		if errors.Is(err, storage.ErrExists) {
			err = dr.Errorf(dr.CodeExists, "draft %s already exists; import an Akoma Ntoso document under a new id", doc)
		}
		return err
	}
	chars := utf8.RuneCountInString(text)
	s.Audit(r.Context(), who, ActionDraftCreate, doc, fmt.Sprintf("akn title=%q chars=%d", title, chars))
	WriteJSON(w, http.StatusCreated, importedDraftJSON{ID: doc, Rev: 0, Title: title, Chars: chars})
	return nil
}

// ImportedChangeJSON is one change found in an imported .docx: the span
// [start, end) of the base revision it replaces, the text it deletes and
// the text it inserts, and the Word author and date of its revision marks.
type ImportedChangeJSON struct {
	Span       [2]int `json:"span"`
	Deleted    string `json:"deleted"`
	Inserted   string `json:"inserted"`
	WordAuthor string `json:"word_author,omitempty"`
	WordDate   string `json:"word_date,omitempty"`
	// Made: the proposal it became (group, alternative, revision).
	Group       string `json:"group,omitempty"`
	Alternative int    `json:"alternative,omitempty"`
	Rev         int    `json:"rev,omitempty"`
	// Not placed: the error code and why.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// importedDocxJSON answers a .docx import.
type importedDocxJSON struct {
	Doc       string               `json:"doc"`
	Base      int                  `json:"base"`    // the revision the document was marked up against
	Tracked   bool                 `json:"tracked"` // changes read from revision marks (else by comparing with base)
	Proposals []ImportedChangeJSON `json:"proposals"`
	NotPlaced []ImportedChangeJSON `json:"not_placed"`
}

func (s *Server) importDocx(w http.ResponseWriter, r *http.Request) error {
	who, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	if !who.CanEdit() {
		return dr.Errorf(dr.CodeForbidden, "a %s may not propose changes", who.Role)
	}
	body, err := readDocument(w, r)
	if err != nil {
		return err
	}
	lim := docx.DefaultLimits
	lim.MaxText = s.cfg.MaxDraftLen
	// Word spends well under 64 bytes of XML per character of text, run
	// properties and revision marks included.
	lim.MaxUnpacked = min(lim.MaxUnpacked, int64(s.cfg.MaxDraftLen)*64+1<<20)
	file, err := docx.Read(body, lim)
	if err != nil {
		return dr.Errorf(dr.CodeBadRequest, "%v", err)
	}
	info, err := s.draftInfo(r.Context(), doc)
	if err != nil {
		return err
	}
	base := -1
	if r.URL.Query().Get("rev") != "" {
		if base, err = s.queryRev(r, info, "rev", 0); err != nil {
			return err
		}
	} else if v, ok := file.Properties[propRev]; ok && file.Properties[propDraft] == doc {
		if base, err = strconv.Atoi(v); err != nil || base < 0 || base > info.Rev {
			return dr.Errorf(dr.CodeBadRequest, "the document's %s property %q is not a revision of draft %s; give rev", propRev, dr.Clip(v), doc)
		}
	} else {
		return dr.Errorf(dr.CodeBadRequest, "give rev, the revision of %s the document was marked up against (it carries no draftroom export properties for this draft)", doc)
	}
	out, err := s.importChanges(r.Context(), who, info, base, file)
	return writeResult(w, http.StatusOK, out, err)
}

// importChanges turns the changes of file, marked up against revision
// base of draft info, into bracket proposals by who, one per change, all
// committed as one revision (one op, one parse of the draft: a document
// of hundreds of changes costs about one proposal). Each change's span is
// brought from base to the head through the ops committed since, so
// concurrent typing is kept. A change the bracket grammar cannot place
// (it crosses a group's boundary, touches another change, its text was
// deleted since) is reported in NotPlaced with its code and reason; the
// others are still made.
func (s *Server) importChanges(ctx context.Context, who dr.Identity, info dr.Draft, base int, file *docx.File) (importedDocxJSON, error) {
	baseText, err := s.textAt(ctx, info, base)
	if err != nil {
		return importedDocxJSON{}, err
	}
	out := importedDocxJSON{Doc: info.ID, Base: base, Proposals: []ImportedChangeJSON{}, NotPlaced: []ImportedChangeJSON{}}
	runs, tracked := changedRuns(file, baseText)
	out.Tracked = tracked
	changes := docx.Changes(runs)
	if len(changes) == 0 {
		return out, nil
	}
	all, notes := importedChanges(changes, baseText)
	// The build may run more than once: the last run's outcome is the one
	// committed.
	var placed importPlacement
	op, err := s.submitBuilt(ctx, info.ID, who, func(st *DraftState) (Built, error) {
		var b Built
		var err error
		placed, b, err = placeChanges(st, info.ID, base, changes, notes, who)
		return b, err
	})
	if err != nil && !errors.Is(err, errNothingPlaced) {
		return out, err
	}
	for i, ch := range all {
		if placed.errs != nil && placed.errs[i] != nil {
			code, msg, _ := protocolError(placed.errs[i])
			if code == dr.CodeInternal {
				return out, placed.errs[i]
			}
			ch.Code, ch.Reason = code, msg
			out.NotPlaced = append(out.NotPlaced, ch)
			continue
		}
		ch.Group, ch.Alternative, ch.Rev = placed.groups[i], placed.alts[i], op.Rev
		out.Proposals = append(out.Proposals, ch)
	}
	return out, nil
}

// changedRuns returns the runs of file with their changes against
// baseText marked: its own revision marks when they are against baseText
// (tracked), else those of a comparison of the document as it reads with
// its changes accepted (no revision marks, or marks against another text).
func changedRuns(file *docx.File, baseText string) (runs []docx.Run, tracked bool) {
	if file.Tracked && docx.Original(file.Runs) == baseText {
		return file.Runs, true
	}
	segs := history.Diff(baseText, docx.Accepted(file.Runs))
	runs = make([]docx.Run, len(segs))
	for i, sg := range segs {
		runs[i].Text = sg.Text
		switch sg.Op {
		case history.OpInsert:
			runs[i].Mark = docx.Inserted
		case history.OpDelete:
			runs[i].Mark = docx.Deleted
		}
	}
	return runs, false
}

// importedChanges describes each change as the answer lists it, and gives
// the note of the proposal it becomes (its Word author and date).
func importedChanges(changes []docx.Change, baseText string) ([]ImportedChangeJSON, []string) {
	baseRunes := []rune(baseText)
	all := make([]ImportedChangeJSON, len(changes))
	notes := make([]string, len(changes))
	for i, c := range changes {
		all[i] = ImportedChangeJSON{Span: [2]int{c.Start, c.End}, Deleted: string(baseRunes[c.Start:c.End]), Inserted: c.Text, WordAuthor: c.Author}
		if !c.Date.IsZero() {
			all[i].WordDate = c.Date.Format(time.RFC3339)
		}
		if c.Author != "" {
			notes[i] = "Word: " + c.Author
			if all[i].WordDate != "" {
				notes[i] += ", " + all[i].WordDate
			}
			notes[i] = clipRunes(notes[i], maxNoteLen)
		}
	}
	return all, notes
}

// importPlacement is where an import's build placed each change: the group
// and alternative of its proposal, or (errs[i] != nil) why it was not
// placed.
type importPlacement struct {
	errs   []error
	groups []string
	alts   []int
}

// placeChanges builds, inside a BuildFunc, the one op that brackets every
// change that can be placed (brackets.Result.WrapMany), each change's span
// brought from base to st.Rev(), with a proposal per change placed.
// errNothingPlaced when none could be.
func placeChanges(st *DraftState, doc string, base int, changes []docx.Change, notes []string, who dr.Identity) (importPlacement, Built, error) {
	head := st.Info().Rev
	if base > head {
		return importPlacement{}, Built{}, dr.Errorf(dr.CodeRevAhead, "rev %d is ahead of draft %s (at %d)", base, doc, head)
	}
	res, err := resultAt(st)
	if err != nil {
		return importPlacement{}, Built{}, err
	}
	since, err := opsSince(st, base)
	if err != nil {
		return importPlacement{}, Built{}, err
	}
	p := importPlacement{errs: make([]error, len(changes)), groups: make([]string, len(changes)), alts: make([]int, len(changes))}
	spans := make([][2]int, 0, len(changes))
	texts := make([]string, 0, len(changes))
	index := make([]int, 0, len(changes)) // change of each span
	for i, c := range changes {
		a, b := spanSince(c.Start, c.End, since)
		if c.Start < c.End && a == b {
			p.errs[i] = dr.Errorf(dr.CodeConflict, "the text of span [%d,%d) at revision %d was deleted since", c.Start, c.End, base)
			continue
		}
		spans, texts, index = append(spans, [2]int{a, b}), append(texts, c.Text), append(index, i)
	}
	wrapOp, _, wrapped := res.WrapMany(spans, texts)
	rev := st.Rev() + 1
	var props []dr.Proposal
	for k, w := range wrapped {
		i := index[k]
		if w.Err != nil {
			p.errs[i] = dr.Prefix(fmt.Sprintf("change at [%d,%d)", changes[i].Start, changes[i].End), w.Err)
			continue
		}
		p.groups[i] = brackets.ID{Rev: rev, K: w.Open}.String()
		p.alts[i] = w.Alternative
		props = append(props, dr.Proposal{Group: p.groups[i], Alternative: w.Alternative, Text: w.Text, By: who.Author, Note: notes[i]})
	}
	if len(props) == 0 {
		return p, Built{}, errNothingPlaced
	}
	return p, Built{Op: wrapOp, Kind: dr.KindPropose, Group: props[0].Group, Proposals: props}, nil
}

// errNothingPlaced ends an import's build when no change could be placed:
// nothing is committed, and the answer lists why for each.
var errNothingPlaced = errors.New("no change could be placed")

// clipRunes returns s cut to at most n code points.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
