// Package brackets understands the square brackets negotiators write in a
// draft: optional text, competing alternatives, nesting. It parses a text
// into bracket groups (Parse), follows the identity of every opening bracket
// through committed ops so a group keeps its id while people type (Tracker),
// and builds the ops that propose an alternative or resolve a group
// (Result.Propose, Result.Wrap, Result.Resolve).
//
// The package is pure: no I/O, no goroutines, no logging. Every position and
// length counts Unicode code points, as ot does. The grammar is specified in
// docs/BRACKETS.md.
package brackets

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
)

// Errors returned (wrapped, with detail) by this package; tell them apart
// with errors.Is. Those a person can act on are *dr.Error values whose
// message says, in a delegate's words, what to do instead; the others
// (ErrOp and below) are internal.
var (
	// ErrNoGroup: no group with that index or id in the parsed text.
	ErrNoGroup = &dr.Error{Code: dr.CodeNotFound, Message: "no such group"}
	// ErrChoice: a resolution that does not fit the group (unknown choice,
	// alternative out of range, dropping a group that is not optional).
	ErrChoice = &dr.Error{Code: dr.CodeBadRequest, Message: "the choice does not fit the group (choose needs an index of one of its alternatives; drop is only for optional text)"}
	// ErrSpan: a span that cannot be wrapped in a new bracket. Wrap returns
	// one of the more precise errors below, each of which wraps ErrSpan.
	ErrSpan = &dr.Error{Code: dr.CodeBadRequest, Message: "the selection cannot be bracketed"}
	// ErrSpanRange: the span is not inside the text.
	ErrSpanRange = spanError("the selection is no longer in the text; select the words again")
	// ErrSpanCrosses: the span cuts through a bracket: it holds one end of
	// a group and not the other, or runs across a '/' between alternatives.
	ErrSpanCrosses = spanError("the selection cuts through a bracket; select words inside one alternative, or whole bracketed text with the words around it")
	// ErrSpanUnbalanced: the span holds a '[' or ']' without its partner.
	ErrSpanUnbalanced = spanError("the selection holds a '[' or ']' that has no partner; fix that bracket first, or select around it")
	// ErrSpanEscape: the span starts or ends between a '\' and the
	// character it escapes.
	ErrSpanEscape = spanError("the selection starts or ends in the middle of an escaped character (a '\\' and what follows it); select one character more or less")
	// ErrSpanJoins: the new bracket would touch a group ("[a]" right before
	// it, or "[a] or " before it) and read as one of its alternatives.
	ErrSpanJoins = spanError("the selection touches a bracket (nothing, or only the word \"or\", between them), so the new bracket would become one of its alternatives; propose on that bracket instead, or select words that have other text between them and the bracket")
	// ErrSpanTooDeep: the new bracket, or a group it would hold, would
	// nest deeper than MaxDepth.
	ErrSpanTooDeep = spanError(fmt.Sprintf("brackets would nest more than %d deep there; resolve some of the brackets around the selection first", MaxDepth))
	// ErrText: a proposal or compromise text that is not valid UTF-8, or an
	// empty proposal where it would add nothing.
	ErrText = &dr.Error{Code: dr.CodeBadRequest, Message: "the text is not valid (an empty span needs a text)"}
	// ErrOp: an op that is malformed or does not fit the tracked text.
	ErrOp = errors.New("brackets: op does not fit the tracked text")
	// ErrRevision: Tracker.Apply called with a revision that does not follow
	// the tracker's own.
	ErrRevision = errors.New("brackets: revision out of sequence")
	// ErrCorrupt: tracker state that cannot be decoded or is inconsistent.
	ErrCorrupt = errors.New("brackets: corrupt tracker state")
	// ErrBadID: a group id that is not of the form b<rev>.<k>.
	ErrBadID = &dr.Error{Code: dr.CodeBadRequest, Message: "a group id is b<rev>.<k>, e.g. b12.3"}
	// ErrOutOfSync: a tracker that does not describe the text it is used
	// with (a group starts where the tracker knows no '[').
	ErrOutOfSync = errors.New("brackets: tracker out of sync with the text")
)

// spanError is a refusal of a span, in words that say what to select
// instead; it wraps ErrSpan.
func spanError(words string) *dr.Error {
	return &dr.Error{Code: dr.CodeBadRequest, Message: words, Err: ErrSpan}
}

// Kind says what a facilitator can do with a group.
type Kind string

// The two kinds of group.
const (
	// Optional is one bracket without a top-level '/': keep or drop it.
	Optional Kind = "optional"
	// Alternatives is a group with two or more alternatives: choose one.
	Alternatives Kind = "alternatives"
)

// Span is a range of code points [Start, End).
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Alternative is one of a group's alternatives. Text is exactly the draft's
// code points [Start, End), the bracket's delimiters excluded and escapes
// kept (Unescape gives the reading form); it may hold nested groups.
type Alternative struct {
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
	Bracket int    `json:"bracket"` // index in the group's Brackets

	startByte int // byte offset of Start in Result.Text
}

// Group is one bracket group: a single bracket, or several adjacent
// brackets that compete with each other. [Start, End) runs from the group's
// first '[' to its last ']' inclusive, separators between its brackets
// included.
type Group struct {
	// ID is the group's stable identity, b<rev>.<k> (see Tracker); empty
	// until Tracker.Identify fills it.
	ID    string `json:"id,omitempty"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Kind  Kind   `json:"kind"`
	// Parent is the index in Result.Groups of the group this one is nested
	// in, and ParentAlternative the index of the alternative of that group
	// that holds it; both -1 for a top-level group.
	Parent            int `json:"parent"`
	ParentAlternative int `json:"parentAlternative"`
	// Depth is 0 for a top-level group, Parent's Depth+1 otherwise.
	Depth int `json:"depth"`
	// Brackets are the spans of the group's brackets, '[' and ']' included,
	// in text order.
	Brackets []Span `json:"brackets"`
	// Alternatives are the top-level alternatives of all the group's
	// brackets, in text order.
	Alternatives []Alternative `json:"alternatives"`

	startByte, endByte int // byte offsets of Start and End in Result.Text
}

// Diagnostic reports an unbalanced bracket. Pos is the code-point position of
// the offending character; the character is read as ordinary text.
type Diagnostic struct {
	Pos     int    `json:"pos"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Diagnostic codes.
const (
	// DiagUnclosed: a '[' that no ']' closes.
	DiagUnclosed = "unclosed"
	// DiagUnmatched: a ']' that closes no '['.
	DiagUnmatched = "unmatched"
	// DiagTooDeep: a bracket nested deeper than MaxDepth; it and everything
	// in it are read as text of the enclosing alternative.
	DiagTooDeep = "too_deep"
)

// MaxDepth is how deep brackets may nest and still be groups: a group's
// Depth is at most MaxDepth-1. A bracket opened inside MaxDepth enclosing
// brackets is read as text, with its contents (its '/' and the brackets in
// it), and reported once as a DiagTooDeep diagnostic at its '['. Real
// negotiating texts rarely nest more than four or five deep; the limit
// keeps a listing's size and the work on it bounded however an op nests
// its brackets.
const MaxDepth = 16

// Result is the parse of one text. Groups are in order of their Start (so a
// parent always comes before its children); Diagnostics in order of Pos.
type Result struct {
	Text        string       `json:"-"`   // the text parsed (not copied)
	Len         int          `json:"len"` // its length in code points
	Groups      []Group      `json:"groups"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// Find returns the index in r.Groups of the group with that id, or -1. Ids
// are only present after Tracker.Identify.
func (r Result) Find(id string) int {
	for i := range r.Groups {
		if r.Groups[i].ID == id {
			return i
		}
	}
	return -1
}

// token is a structural character: an unescaped '[', ']' or '/'.
type token struct {
	pos     int  // code points
	off     int  // bytes
	char    byte // '[', ']' or '/'
	matched bool // for '[' and ']': part of a balanced pair
}

// Parse reads the bracket structure of text. It never fails: unbalanced
// brackets become Diagnostics and are read as ordinary characters. Invalid
// UTF-8 bytes count as one code point each (as utf8.RuneCountInString
// does); drafts never hold them.
func Parse(text string) Result {
	toks, length, diags := scan(text)
	res := Result{Text: text, Len: length, Diagnostics: diags}
	if len(toks) == 0 {
		return res
	}
	build(&res, toks)
	return res
}

// scan finds the structural characters and pairs the brackets with a stack,
// so that an unmatched bracket never disturbs the pairs around it.
func scan(s string) (toks []token, length int, diags []Diagnostic) {
	sc := scanner{s: s}
	// Counting the special bytes first (a vectorised pass each) sizes the
	// token list once.
	sc.toks = make([]token, 0, strings.Count(s, "[")+strings.Count(s, "]")+strings.Count(s, "/"))
	if utf8.ValidString(s) {
		// Every byte that is not a continuation byte starts a code point:
		// one table lookup per byte.
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c&0xC0 == 0x80 {
				continue
			}
			if isSpecial[c] && sc.special(i) {
				i++ // an escape: the escaped character is ASCII
			}
			sc.cp++
		}
	} else {
		// Invalid bytes count as one code point each, as in
		// utf8.RuneCountInString.
		for i := 0; i < len(s); {
			c := s[i]
			size := 1
			if c >= utf8.RuneSelf {
				_, size = utf8.DecodeRuneInString(s[i:])
			} else if isSpecial[c] && sc.special(i) {
				size = 2
			}
			i += size
			sc.cp++
		}
	}
	if len(sc.stack) > 0 {
		for _, k := range sc.stack {
			sc.diags = append(sc.diags, Diagnostic{Pos: sc.toks[k].pos, Code: DiagUnclosed,
				Message: "'[' is never closed; read as text"})
		}
		slices.SortFunc(sc.diags, func(a, b Diagnostic) int { return cmp.Compare(a.Pos, b.Pos) })
	}
	return sc.toks, sc.cp, sc.diags
}

var isSpecial = [256]bool{'[': true, ']': true, '/': true, '\\': true}

type scanner struct {
	s     string
	cp    int // code points before the current byte
	toks  []token
	stack []int // indexes in toks of the '[' not closed yet
	diags []Diagnostic
}

// special handles the special byte at s[i] and reports whether it starts an
// escape, in which case the caller also consumes the next byte and counts
// one more code point.
func (sc *scanner) special(i int) bool {
	switch c := sc.s[i]; c {
	case '\\':
		if i+1 < len(sc.s) && isEscapable(sc.s[i+1]) {
			sc.cp++
			return true
		}
	case '[':
		sc.stack = append(sc.stack, len(sc.toks))
		sc.toks = append(sc.toks, token{char: c, pos: sc.cp, off: i})
	case ']':
		t := token{char: c, pos: sc.cp, off: i}
		if n := len(sc.stack); n > 0 {
			sc.toks[sc.stack[n-1]].matched = true
			t.matched = true
			sc.stack = sc.stack[:n-1]
		} else {
			sc.diags = append(sc.diags, Diagnostic{Pos: sc.cp, Code: DiagUnmatched,
				Message: "']' closes no bracket; read as text"})
		}
		sc.toks = append(sc.toks, t)
	case '/':
		sc.toks = append(sc.toks, token{char: c, pos: sc.cp, off: i})
	}
	return false
}

func isEscapable(c byte) bool { return c == '[' || c == ']' || c == '/' || c == '\\' }

// Records gathered while walking the tokens; alternatives and brackets of a
// group are finished interleaved with those of its nested groups, so they
// are grouped by a counting sort at the end.
type altRec struct {
	group int
	alt   Alternative
}

type bracketRec struct {
	group int
	span  Span
}

type openBracket struct {
	group, bracket      int // bracket: index in the flat bracket list
	inGroup             int // index of this bracket in its group
	altStart, altStart8 int // current alternative's start, code points and bytes
}

type lastClose struct {
	group, endByte int
	ok             bool
}

// groupBuilder reads the bracket tokens of a text in order into groups:
// each matched '[' opens a bracket (of a new group, or of the group of the
// bracket just closed at its depth when only a separator lies between
// them), each '/' and ']' ends an alternative of the innermost open
// bracket.
type groupBuilder struct {
	s        string
	groups   []Group
	alts     []altRec
	brackets []bracketRec
	nAlts    []int // per group: alternatives finished so far
	nBrk     []int // per group: brackets opened so far
	stack    []openBracket
	last     []lastClose // per depth: the last bracket closed there
	deep     int         // brackets open beyond MaxDepth
	tooDeep  []Diagnostic
}

// build fills res.Groups (and adds the diagnostics of brackets nested too
// deep) from the bracket tokens of res.Text.
func build(res *Result, toks []token) {
	b := newGroupBuilder(res.Text, toks)
	for _, t := range toks {
		b.read(t)
	}
	if len(b.tooDeep) > 0 {
		res.Diagnostics = append(res.Diagnostics, b.tooDeep...)
		slices.SortFunc(res.Diagnostics, func(a, b Diagnostic) int { return cmp.Compare(a.Pos, b.Pos) })
	}
	if len(b.groups) > 0 {
		res.Groups = b.finish()
	}
}

// newGroupBuilder sizes the builder's lists for toks: at most a group per
// matched '[', an alternative per closing ']' and per '/'.
func newGroupBuilder(s string, toks []token) groupBuilder {
	nOpen, nSlash := 0, 0
	for _, t := range toks {
		switch {
		case t.char == '[' && t.matched:
			nOpen++
		case t.char == '/':
			nSlash++
		}
	}
	return groupBuilder{
		s:        s,
		groups:   make([]Group, 0, nOpen),
		alts:     make([]altRec, 0, nOpen+nSlash),
		brackets: make([]bracketRec, 0, nOpen),
		nAlts:    make([]int, 0, nOpen),
		nBrk:     make([]int, 0, nOpen),
		last:     make([]lastClose, 1, 8),
	}
}

// read takes the next token.
func (b *groupBuilder) read(t token) {
	if b.deep > 0 {
		// Inside a bracket nested too deep: all of it is text.
		if t.matched && t.char == '[' {
			b.deep++
		} else if t.matched && t.char == ']' {
			b.deep--
		}
		return
	}
	switch {
	case t.char == '[' && t.matched && len(b.stack) >= MaxDepth:
		b.deep = 1
		b.tooDeep = append(b.tooDeep, Diagnostic{Pos: t.pos, Code: DiagTooDeep,
			Message: "brackets nest more than " + strconv.Itoa(MaxDepth) + " deep here; this bracket and its contents are read as text"})
	case t.char == '[' && t.matched:
		b.open(t)
	case t.char == ']' && t.matched:
		b.close(t)
	case t.char == '/' && len(b.stack) > 0:
		top := &b.stack[len(b.stack)-1]
		b.endAlternative(top, t)
		top.altStart, top.altStart8 = t.pos+1, t.off+1
	}
}

// open opens a bracket at t: of the group of the bracket closed just
// before at its depth when only a separator lies between them, else of a
// new group.
func (b *groupBuilder) open(t token) {
	d := len(b.stack)
	var g int
	if l := b.last[d]; l.ok && isSeparator(b.s[l.endByte:t.off]) {
		g = l.group
	} else {
		g = b.newGroup(t, d)
	}
	b.stack = append(b.stack, openBracket{group: g, bracket: len(b.brackets), inGroup: b.nBrk[g],
		altStart: t.pos + 1, altStart8: t.off + 1})
	b.nBrk[g]++
	b.brackets = append(b.brackets, bracketRec{group: g, span: Span{Start: t.pos}})
	// Brackets inside this one start a fresh level: one closed at depth
	// d+1 inside an earlier bracket must never join one opened inside this
	// one.
	if len(b.last) <= d+1 {
		b.last = append(b.last, lastClose{})
	} else {
		b.last[d+1] = lastClose{}
	}
}

// newGroup starts a group at the '[' t, at depth d, and returns its index.
func (b *groupBuilder) newGroup(t token, d int) int {
	grp := Group{Start: t.pos, startByte: t.off, Parent: -1, ParentAlternative: -1, Depth: d}
	if d > 0 {
		p := b.stack[d-1].group
		grp.Parent = p
		grp.ParentAlternative = b.nAlts[p]
	}
	b.groups = append(b.groups, grp)
	b.nAlts = append(b.nAlts, 0)
	b.nBrk = append(b.nBrk, 0)
	return len(b.groups) - 1
}

// close closes the innermost open bracket at the ']' t.
func (b *groupBuilder) close(t token) {
	top := b.stack[len(b.stack)-1]
	b.stack = b.stack[:len(b.stack)-1]
	b.endAlternative(&top, t)
	b.brackets[top.bracket].span.End = t.pos + 1
	g := &b.groups[top.group]
	g.End, g.endByte = t.pos+1, t.off+1
	b.last[len(b.stack)] = lastClose{group: top.group, endByte: t.off + 1, ok: true}
}

// endAlternative ends the current alternative of bracket top at the '/'
// or ']' t.
func (b *groupBuilder) endAlternative(top *openBracket, t token) {
	b.alts = append(b.alts, altRec{top.group, Alternative{Start: top.altStart, End: t.pos,
		Text: b.s[top.altStart8:t.off], Bracket: top.inGroup, startByte: top.altStart8}})
	b.nAlts[top.group]++
}

// finish hands each group its alternatives and brackets, and its kind.
func (b *groupBuilder) finish() []Group {
	groups := b.groups
	// Counting sort by group; appends happened in text order within each
	// group, and the sort is stable.
	altOut := make([]Alternative, len(b.alts))
	brkOut := make([]Span, len(b.brackets))
	altOff, brkOff := 0, 0
	for g := range groups {
		na, nb := b.nAlts[g], b.nBrk[g]
		groups[g].Alternatives = altOut[altOff : altOff : altOff+na]
		groups[g].Brackets = brkOut[brkOff : brkOff : brkOff+nb]
		altOff += na
		brkOff += nb
	}
	for _, a := range b.alts {
		g := &groups[a.group]
		g.Alternatives = append(g.Alternatives, a.alt)
	}
	for _, br := range b.brackets {
		g := &groups[br.group]
		g.Brackets = append(g.Brackets, br.span)
	}
	for g := range groups {
		if len(groups[g].Alternatives) == 1 {
			groups[g].Kind = Optional
		} else {
			groups[g].Kind = Alternatives
		}
	}
	return groups
}

// isSeparator reports whether s, the text between a ']' and the next '[' at
// the same depth, makes the two brackets one group: nothing at all
// ("[a][b]"), or blanks, the word "or", blanks ("[a] or [b]"). Any other
// text, blanks alone included ("[a] [b]"), leaves two independent groups.
func isSeparator(s string) bool {
	if s == "" {
		return true
	}
	i := skipBlanks(s, 0)
	if i == 0 || !strings.HasPrefix(s[i:], "or") {
		return false
	}
	j := skipBlanks(s, i+2)
	return j > i+2 && j == len(s)
}

// skipBlanks returns the byte offset of the first non-blank at or after i.
func skipBlanks(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t':
			i++
		case strings.HasPrefix(s[i:], "\u00a0"), strings.HasPrefix(s[i:], "\u202f"):
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		default:
			return i
		}
	}
	return i
}

// Elided stands for a nested group in Outline.
const Elided = "[…]"

// Outline returns alternative k of group g as written, except that each
// group nested directly in it is replaced by Elided: "States [shall/may]
// adopt" reads "States […] adopt". A listing shows outlines so that its
// size stays linear in the text: a nested group's words are listed once, in
// that group, not again in every enclosing alternative. An alternative
// without nested groups is its Text, not copied. It returns "" if g or k is
// out of range.
func (r Result) Outline(g, k int) string {
	if g < 0 || g >= len(r.Groups) || k < 0 || k >= len(r.Groups[g].Alternatives) {
		return ""
	}
	a := &r.Groups[g].Alternatives[k]
	var b strings.Builder
	at := a.startByte
	// Groups are in pre-order: the descendants of g follow it and start
	// before its end (at most MaxDepth-1 levels of them).
	for h := g + 1; h < len(r.Groups) && r.Groups[h].Start < a.End; h++ {
		c := &r.Groups[h]
		if c.Parent != g || c.ParentAlternative != k {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(a.Text))
		}
		b.WriteString(r.Text[at:c.startByte])
		b.WriteString(Elided)
		at = c.endByte
	}
	if at == a.startByte {
		return a.Text
	}
	b.WriteString(r.Text[at : a.startByte+len(a.Text)])
	return b.String()
}

// Escape returns s written so that it reads as plain text inside a bracket:
// '[', ']', '/' and '\' each get a '\' in front. Unescape(Escape(s)) == s.
func Escape(s string) string { return escape(s, true) }

// escape escapes '[', ']' and '\', and '/' when slash is set ('/' needs no
// escape outside brackets).
func escape(s string, slash bool) string {
	if !strings.ContainsAny(s, `[]/\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '[' || c == ']' || c == '\\' || (slash && c == '/') {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Unescape returns s as a reader sees it: every escape (a '\' before '[',
// ']', '/' or '\') is replaced by the character it escapes. Brackets are
// left as they are.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isEscapable(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Same reports whether g and h read the same: same kind and alternatives
// with the same texts, wherever they stand. The server uses it to tell a
// stale resolution (the group changed since the facilitator saw it) from
// one merely moved by edits elsewhere.
func (g Group) Same(h Group) bool {
	if g.Kind != h.Kind || len(g.Alternatives) != len(h.Alternatives) {
		return false
	}
	for i := range g.Alternatives {
		if g.Alternatives[i].Text != h.Alternatives[i].Text {
			return false
		}
	}
	return true
}
