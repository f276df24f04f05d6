package server

// Bracket groups in the live server (docs/PROTOCOL.md section 2.2): the
// per-draft observer that follows bracket identities and the "brackets
// remaining" curve, and the listing of a draft's groups at any revision.
// The WebSocket messages and HTTP endpoints are in brackets_api.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/jsonx"
	"github.com/draftroom/draftroom/ot"
)

// BracketsSection is the name of the bracket observer and of its snapshot
// Meta section.
const BracketsSection = "brackets"

// maxCachedListings bounds the listings a draft keeps (the current one and
// a few older revisions a history view is looking at).
const maxCachedListings = 8

// bracketObserver is a draft's bracket state (brackets.Observer, kept by
// its owner goroutine) with what the listings need beside it: the
// listings of recent revisions and the draft's proposals, cached. mu
// guards the caches, which request goroutines fill and read.
type bracketObserver struct {
	*brackets.Observer

	mu      sync.Mutex
	lists   map[int]*listing // by rev, at most maxCachedListings
	useTick int
	propGen int // bumped by every committed proposal
	props   *proposalCache
}

type proposalCache struct {
	gen  int
	list []dr.Proposal
}

// restoreBrackets builds the observer of draft d from snap: from its Meta
// section, or, without one, from the text alone (revision 0). stats says
// whether to maintain the open-groups curve while ops are applied.
func restoreBrackets(d dr.Draft, snap dr.Snapshot, stats bool) (*bracketObserver, error) {
	o := &bracketObserver{lists: make(map[int]*listing)}
	data, ok := snap.Meta[BracketsSection]
	switch {
	case ok:
		obs, err := brackets.RestoreObserver(d, data, snap.Rev, snap.Text, stats)
		if err != nil {
			return nil, err
		}
		o.Observer = obs
	case snap.Rev != 0:
		return nil, fmt.Errorf("brackets: snapshot %d has no %q section: %w", snap.Rev, BracketsSection, brackets.ErrCorrupt)
	default:
		o.Observer = brackets.NewObserver(d, snap.Text, stats)
	}
	return o, nil
}

// ApplyOp implements Observer: brackets.Observer.Apply, and a committed
// proposal makes the cached proposals stale.
func (o *bracketObserver) ApplyOp(op dr.Op, text *ot.Text) {
	o.Apply(op, text)
	if op.Kind == dr.KindPropose && o.Err() == nil {
		o.mu.Lock()
		o.propGen++
		o.mu.Unlock()
	}
}

// Meta implements Observer.
func (o *bracketObserver) Meta() (string, json.RawMessage) {
	return BracketsSection, o.Observer.Meta()
}

// trustedObserver is an observer that stops trusting its own state when
// an op does not apply to it (broken then returns why).
type trustedObserver interface {
	Observer
	broken() error
}

// observerOf returns the draft's observer named section, an O, unless its
// state is not trusted (then the error that broke it).
func observerOf[O trustedObserver](st *DraftState, section string) (O, error) {
	var none O
	o, ok := st.Observer(section).(O)
	if !ok {
		return none, fmt.Errorf("draft %s has no %s observer", st.ID(), section)
	}
	if err := o.broken(); err != nil {
		return none, err
	}
	return o, nil
}

// bracketsOf returns the draft's bracket observer.
func bracketsOf(st *DraftState) (*bracketObserver, error) {
	return observerOf[*bracketObserver](st, BracketsSection)
}

func (o *bracketObserver) broken() error { return o.Err() }

// listing is the bracket listing of a draft at one revision: the parse with
// ids, and the JSON of its groups and diagnostics, encoded once, with what
// attributes its alternatives (opener, props) so that a group is shown
// again (listing.group) without decoding the JSON.
type listing struct {
	rev    int
	res    brackets.Result
	body   []byte // `"groups":[...],"diagnostics":[...]`
	opener func(rev int) dr.Author
	props  map[string][]dr.Proposal // by group, those made at or before rev
	used   int
}

// group returns the listed group with that id as the listing shows it, or
// nil.
func (l *listing) group(id string) *GroupJSON {
	gi := l.res.Find(id)
	if gi < 0 {
		return nil
	}
	g := groupJSON(&l.res, gi, l.opener, l.props)
	return &g
}

// GroupJSON is a bracket group as the API shows it (PROTOCOL.md 2.2).
type GroupJSON struct {
	ID                string            `json:"id"`
	Span              [2]int            `json:"span"`
	Kind              brackets.Kind     `json:"kind"`
	Parent            *string           `json:"parent"`
	ParentAlternative int               `json:"parent_alternative"`
	Depth             int               `json:"depth"`
	Alternatives      []AlternativeJSON `json:"alternatives"`
}

// AlternativeJSON is one alternative of a group. Text is its outline
// (brackets.Result.Outline: as written, each nested group replaced by
// "[…]"); Span is the alternative's whole extent in the draft. By is who
// proposed it:
// from the proposal record (Source "proposal"), else whoever committed the
// op that typed the group's first '[' (Source "bracket"; the draft's
// creator for the initial text).
type AlternativeJSON struct {
	Text   string    `json:"text"`
	Span   [2]int    `json:"span"`
	By     dr.Author `json:"by"`
	Source string    `json:"source"`
}

// Attribution sources of AlternativeJSON.
const (
	SourceProposal = "proposal"
	SourceBracket  = "bracket"
)

// groupJSON converts group gi of res.
func groupJSON(res *brackets.Result, gi int, opener func(rev int) dr.Author, props map[string][]dr.Proposal) GroupJSON {
	g := &res.Groups[gi]
	out := GroupJSON{ID: g.ID, Span: [2]int{g.Start, g.End}, Kind: g.Kind, ParentAlternative: g.ParentAlternative, Depth: g.Depth,
		Alternatives: make([]AlternativeJSON, len(g.Alternatives))}
	if g.Parent >= 0 {
		out.Parent = &res.Groups[g.Parent].ID
	}
	var by dr.Author
	if id, err := brackets.ParseID(g.ID); err == nil {
		by = opener(id.Rev)
	}
	gp := props[g.ID]
	for k, a := range g.Alternatives {
		// The outline (nested groups elided), so a listing stays linear in
		// the text however deep the brackets nest; the nested groups are
		// listed on their own.
		alt := AlternativeJSON{Text: res.Outline(gi, k), Span: [2]int{a.Start, a.End}, By: by, Source: SourceBracket}
		if p := proposalFor(gp, k, a.Text); p != nil {
			alt.By, alt.Source = p.By, SourceProposal
		}
		out.Alternatives[k] = alt
	}
	return out
}

// proposalFor finds the proposal of alternative k with text: the one
// recorded at index k, else the earliest with that text (alternatives move
// when others are added or removed; text edited since it was proposed is no
// longer the proposal).
func proposalFor(props []dr.Proposal, k int, text string) *dr.Proposal {
	var first *dr.Proposal
	for i := range props {
		p := &props[i]
		if p.Text != text {
			continue
		}
		if p.Alternative == k {
			return p
		}
		if first == nil {
			first = p
		}
	}
	return first
}

// encodeListing builds the JSON fragment of a listing,
// `"groups":[...],"diagnostics":[...]`. It writes the JSON by hand (the same
// bytes encoding/json writes with HTML escaping off, which a test checks):
// reflection made it two thirds of the cost of a fresh listing.
func encodeListing(res *brackets.Result, opener func(rev int) dr.Author, proposals []dr.Proposal, rev int) []byte {
	return encodeGroups(res, opener, proposalsByGroup(proposals, rev))
}

// proposalsByGroup returns the proposals made at or before rev, by group.
func proposalsByGroup(proposals []dr.Proposal, rev int) map[string][]dr.Proposal {
	props := make(map[string][]dr.Proposal)
	for _, p := range proposals {
		if p.Rev <= rev {
			props[p.Group] = append(props[p.Group], p)
		}
	}
	return props
}

// encodeGroups is encodeListing with the proposals by group.
func encodeGroups(res *brackets.Result, opener func(rev int) dr.Author, props map[string][]dr.Proposal) []byte {
	// Outlines hold each character of the text at most once.
	size := 64 + len(res.Text) + len(res.Text)/8
	for i := range res.Groups {
		size += 160 + 110*len(res.Groups[i].Alternatives)
	}
	b := make([]byte, 0, size+100*len(res.Diagnostics))
	b = append(b, `"groups":[`...)
	for i := range res.Groups {
		if i > 0 {
			b = append(b, ',')
		}
		g := groupJSON(res, i, opener, props)
		b = appendGroupJSON(b, &g)
	}
	b = append(b, `],"diagnostics":[`...)
	for i, d := range res.Diagnostics {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"pos":`...)
		b = strconv.AppendInt(b, int64(d.Pos), 10)
		b = append(b, `,"code":`...)
		b = jsonx.AppendString(b, d.Code)
		b = append(b, `,"message":`...)
		b = jsonx.AppendString(b, d.Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendGroupJSON appends g as encoding/json would (field order and names
// of GroupJSON and AlternativeJSON).
func appendGroupJSON(b []byte, g *GroupJSON) []byte {
	b = append(b, `{"id":`...)
	b = jsonx.AppendString(b, g.ID)
	b = appendSpanJSON(append(b, `,"span":`...), g.Span)
	b = append(b, `,"kind":`...)
	b = jsonx.AppendString(b, string(g.Kind))
	b = append(b, `,"parent":`...)
	if g.Parent == nil {
		b = append(b, "null"...)
	} else {
		b = jsonx.AppendString(b, *g.Parent)
	}
	b = append(b, `,"parent_alternative":`...)
	b = strconv.AppendInt(b, int64(g.ParentAlternative), 10)
	b = append(b, `,"depth":`...)
	b = strconv.AppendInt(b, int64(g.Depth), 10)
	b = append(b, `,"alternatives":[`...)
	for k := range g.Alternatives {
		a := &g.Alternatives[k]
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"text":`...)
		b = jsonx.AppendString(b, a.Text)
		b = appendSpanJSON(append(b, `,"span":`...), a.Span)
		b = append(b, `,"by":{"delegation":`...)
		b = jsonx.AppendString(b, a.By.Delegation)
		b = append(b, `,"name":`...)
		b = jsonx.AppendString(b, a.By.Name)
		b = append(b, `},"source":`...)
		b = jsonx.AppendString(b, a.Source)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func appendSpanJSON(b []byte, sp [2]int) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(sp[0]), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(sp[1]), 10)
	return append(b, ']')
}

// cached returns the cached listing of rev, or nil.
func (o *bracketObserver) cached(rev int) *listing {
	o.mu.Lock()
	defer o.mu.Unlock()
	l := o.lists[rev]
	if l != nil {
		o.useTick++
		l.used = o.useTick
	}
	return l
}

// keep caches l, evicting the least recently used listing when full.
func (o *bracketObserver) keep(l *listing) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.lists) >= maxCachedListings {
		oldest := -1
		for rev, x := range o.lists {
			if oldest < 0 || x.used < o.lists[oldest].used {
				oldest = rev
			}
		}
		delete(o.lists, oldest)
	}
	o.useTick++
	l.used = o.useTick
	o.lists[l.rev] = l
}

// proposals returns the draft's proposals, from memory unless one was
// committed since they were read.
func (o *bracketObserver) proposals(ctx context.Context, s *Server, doc string) ([]dr.Proposal, error) {
	o.mu.Lock()
	gen, pc := o.propGen, o.props
	o.mu.Unlock()
	if pc != nil && pc.gen == gen {
		return pc.list, nil
	}
	list, err := s.store.Proposals(ctx, doc)
	if err != nil {
		return nil, fmt.Errorf("proposals %s: %w", doc, err)
	}
	o.mu.Lock()
	if o.props == nil || o.props.gen <= gen {
		o.props = &proposalCache{gen: gen, list: list}
	}
	o.mu.Unlock()
	return list, nil
}

// bracketListing returns the bracket listing of draft doc at revision rev
// (rev < 0: the current one), from the cache when it was listed before.
// The parse and the encoding run in the caller's goroutine, not the
// draft's owner (which only hands over a copy of the text and tracker).
// Errors: not_found (no such draft), rev_ahead.
func (s *Server) bracketListing(ctx context.Context, doc string, rev int) (*listing, error) {
	o, hit, src, err := s.listingSource(ctx, doc, rev)
	if err != nil || hit != nil {
		return hit, err
	}
	if src.tracker == nil {
		old, oldText, err := s.bracketsAt(ctx, src.info, src.rev)
		if err != nil {
			return nil, err
		}
		src.text, src.tracker, src.opener = oldText, old.Tracker(), old.Opener
	}
	res, err := brackets.List(src.text, src.tracker)
	if err != nil {
		return nil, fmt.Errorf("list brackets of %s@%d: %w", doc, src.rev, err)
	}
	props, err := o.proposals(ctx, s, doc)
	if err != nil {
		return nil, err
	}
	byGroup := proposalsByGroup(props, src.rev)
	l := &listing{rev: src.rev, res: res, body: encodeGroups(&res, src.opener, byGroup), opener: src.opener, props: byGroup}
	o.keep(l)
	return l, nil
}

// listingSource is what a listing at rev is made from: the draft, and at
// the head copies of its text and tracker with the live openers (tracker
// nil: rev is older, rebuild it).
type listingSource struct {
	info    dr.Draft
	rev     int
	text    string
	tracker *brackets.Tracker
	opener  func(rev int) dr.Author
}

// listingSource asks draft doc's owner for its bracket observer and, for
// the listing at rev (-1: the head), the cached listing or what to make it
// from; the copies let the parse run outside the owner goroutine.
func (s *Server) listingSource(ctx context.Context, doc string, rev int) (*bracketObserver, *listing, listingSource, error) {
	var (
		o   *bracketObserver
		hit *listing
		src listingSource
	)
	err := s.Do(ctx, doc, func(st *DraftState) error {
		var err error
		if o, err = bracketsOf(st); err != nil {
			return err
		}
		if rev, err = listedRev(st, doc, rev); err != nil {
			return err
		}
		if hit = o.cached(rev); hit != nil {
			return nil
		}
		src = listingSource{info: st.Info(), rev: rev}
		if cur := st.Rev(); rev == cur {
			src.text, src.tracker, src.opener = st.Text().String(), o.Tracker().Clone(), o.Opener
			if src.tracker.Rev() != cur {
				return fmt.Errorf("brackets: tracker at %d, draft %s at %d", src.tracker.Rev(), doc, cur)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, listingSource{}, err
	}
	return o, hit, src, nil
}

// bracketsAt rebuilds the bracket state of a draft at an older revision
// (observerAt: from the nearest snapshot at or before rev that has the
// section, or revision 0, replaying the ops after it), and the text at rev.
func (s *Server) bracketsAt(ctx context.Context, info dr.Draft, rev int) (*bracketObserver, string, error) {
	snap, err := s.store.Snapshot(ctx, info.ID, rev)
	if err != nil {
		return nil, "", fmt.Errorf("brackets of %s@%d: snapshot: %w", info.ID, rev, err)
	}
	obs, text, base, err := observerAt(ctx, s.store, info, BracketsSection, func(d dr.Draft, snap dr.Snapshot) (Observer, error) {
		return restoreBrackets(d, snap, false)
	}, snap, rev)
	if err != nil {
		return nil, "", err
	}
	o := obs.(*bracketObserver)
	if o.Err() != nil {
		return nil, "", fmt.Errorf("brackets of %s@%d: %w", info.ID, rev, o.Err())
	}
	if text == nil {
		return o, base.Text, nil
	}
	return o, text.String(), nil
}

// resultAt parses the draft inside a BuildFunc, at st.Rev() (the committed
// head plus the ops staged before it), with ids.
func resultAt(st *DraftState) (brackets.Result, error) {
	o, err := bracketsOf(st)
	if err != nil {
		return brackets.Result{}, err
	}
	staged := st.Staged()
	if len(staged) == 0 {
		if l := o.cached(st.Rev()); l != nil {
			return l.res, nil
		}
	}
	tr := o.Tracker()
	if len(staged) > 0 {
		// The staged ops are not committed: follow them on a copy, as the
		// tracker must only ever see committed ops.
		tr = tr.Clone()
		for _, op := range staged {
			if err := tr.Apply(op.Op, op.Rev); err != nil {
				return brackets.Result{}, fmt.Errorf("brackets: staged op %d: %w", op.Rev, err)
			}
		}
	}
	if tr.Rev() != st.Rev() {
		return brackets.Result{}, fmt.Errorf("brackets: tracker at %d, draft %s at %d", tr.Rev(), st.ID(), st.Rev())
	}
	return brackets.List(st.Text().String(), tr)
}
