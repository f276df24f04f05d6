package brackets

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// Resolution choices; the same words as the protocol and dr.Decision.
const (
	ChoiceChoose     = "choose"     // keep alternative Index, drop the others
	ChoiceDrop       = "drop"       // drop an optional group's text
	ChoiceCompromise = "compromise" // replace the group with Text
)

// Resolution is a facilitator's decision on one group.
type Resolution struct {
	Choice string
	Index  int    // ChoiceChoose: the alternative kept (0-based)
	Text   string // ChoiceCompromise: plain text, escaped by Resolve as needed
}

// Change is an edit built by Resolve, Propose or Wrap: Op takes the parsed
// text to NewText. Op is in normal form (no trailing skip), its deletes
// carry the deleted text (so ot.Apply rejects it on a text it was not built
// for), and it is meant to be committed at the revision the Result was
// parsed from.
type Change struct {
	Op      ot.Op
	NewText string
	// Start and End delimit, in the parsed text, what the change concerns:
	// the range Resolve replaces, the group Propose extends, the span Wrap
	// brackets.
	Start, End int
	// Text is, for Resolve, the text that replaced the group (the
	// Decision's result); for Propose and Wrap, the new alternative as
	// written in the draft (escaped).
	Text string
	// Alternative is, for Propose and Wrap, the index of the new
	// alternative in its group once Op is applied (for a Wrap with an empty
	// text, 0: the span itself, now optional); -1 for Resolve.
	Alternative int
	// Open is, for Wrap, the index of the new group's '[' in Op's inserted
	// text, so the group's id is b<rev>.<Open> once Op commits as rev; -1
	// otherwise (Propose keeps the group's id, Resolve removes the group).
	Open int
}

// builder writes an op over src and the text it produces at once, so the
// helpers need no separate apply.
type builder struct {
	src     string
	op      ot.Op
	out     strings.Builder
	cp, off int // how far src has been walked, in code points and bytes
}

func newBuilder(src string) *builder {
	b := &builder{src: src, op: ot.Op{}}
	b.out.Grow(len(src) + 64)
	return b
}

func (b *builder) add(c ot.Component) {
	if n := len(b.op); n > 0 {
		last := &b.op[n-1]
		switch {
		case c.Skip > 0 && last.Skip > 0:
			last.Skip += c.Skip
			return
		case c.Insert != "" && last.Insert != "":
			last.Insert += c.Insert
			return
		case c.Delete > 0 && last.Delete > 0:
			last.Delete += c.Delete
			last.Deleted += c.Deleted
			return
		}
	}
	b.op = append(b.op, c)
}

// skipTo retains src up to (cp, off).
func (b *builder) skipTo(cp, off int) {
	if cp > b.cp {
		b.add(ot.Component{Skip: cp - b.cp})
		b.out.WriteString(b.src[b.off:off])
	}
	b.cp, b.off = cp, off
}

// deleteTo deletes src up to (cp, off).
func (b *builder) deleteTo(cp, off int) {
	if cp > b.cp {
		b.add(ot.Component{Delete: cp - b.cp, Deleted: b.src[b.off:off]})
	}
	b.cp, b.off = cp, off
}

func (b *builder) insert(s string) {
	if s != "" {
		b.add(ot.Component{Insert: s})
		b.out.WriteString(s)
	}
}

// done returns the op (a trailing skip is implicit) and the new text.
func (b *builder) done() (ot.Op, string) {
	b.out.WriteString(b.src[b.off:])
	return b.op, b.out.String()
}

// byteOffset returns the byte offset of code point cp of s, walking from
// the known pair (fromCp, fromByte) at or before it.
func byteOffset(s string, fromCp, fromByte, cp int) int {
	i := fromByte
	for n := fromCp; n < cp && i < len(s); n++ {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
	}
	return i
}

func (r Result) group(g int) (*Group, error) {
	if g < 0 || g >= len(r.Groups) {
		return nil, fmt.Errorf("group %d of %d: %w", g, len(r.Groups), ErrNoGroup)
	}
	return &r.Groups[g], nil
}

// Resolve builds the op that replaces group g (an index in r.Groups) with
// the text res asks for, without brackets:
//   - choose: alternative Index as written (nested groups in it stay);
//   - drop: nothing, for an Optional group only;
//   - compromise: Text, read as plain text (its '[', ']', '\', and '/' in a
//     nested group, are escaped).
//
// Escaped slashes of a kept alternative are unescaped when the group is at
// top level, where '/' is plain text. The op changes the group's span
// [Start, End) and nothing outside it. Errors: ErrNoGroup, ErrChoice,
// ErrText.
func (r Result) Resolve(g int, res Resolution) (Change, error) {
	grp, err := r.group(g)
	if err != nil {
		return Change{}, err
	}
	nested := grp.Parent >= 0
	var text string
	switch res.Choice {
	case ChoiceChoose:
		if res.Index < 0 || res.Index >= len(grp.Alternatives) {
			return Change{}, fmt.Errorf("alternative %d of %d: %w", res.Index, len(grp.Alternatives), ErrChoice)
		}
		text = grp.Alternatives[res.Index].Text
		if !nested {
			text = unescapeTopSlashes(text)
		}
	case ChoiceDrop:
		if grp.Kind != Optional {
			return Change{}, fmt.Errorf("drop a group of %d alternatives: %w", len(grp.Alternatives), ErrChoice)
		}
	case ChoiceCompromise:
		if !utf8.ValidString(res.Text) {
			return Change{}, fmt.Errorf("compromise: %w", ErrText)
		}
		text = escape(res.Text, nested)
	default:
		return Change{}, fmt.Errorf("choice %q: %w", res.Choice, ErrChoice)
	}
	// Only the group's span changes, never a character around it: a
	// resolution must not touch words nobody decided on (a space left
	// double by a drop is for the drafters to tidy).
	s := r.Text
	start, startByte, end, endByte := grp.Start, grp.startByte, grp.End, grp.endByte
	b := newBuilder(s)
	b.skipTo(start, startByte)
	if res.Choice == ChoiceChoose {
		// Keep the chosen text in place rather than delete and re-insert
		// it: the brackets nested in it keep their ids, and its code points
		// keep their authors.
		a := grp.Alternatives[res.Index]
		aStart := byteOffset(s, grp.Start, grp.startByte, a.Start)
		aEnd := aStart + len(a.Text)
		b.deleteTo(a.Start, aStart)
		if !nested {
			forEachTopSlashEscape(a.Text, func(cp, off int) {
				b.skipTo(a.Start+cp, aStart+off)
				b.deleteTo(a.Start+cp+1, aStart+off+1)
			})
		}
		b.skipTo(a.End, aEnd)
		b.deleteTo(end, endByte)
	} else {
		b.deleteTo(end, endByte)
		b.insert(text)
	}
	op, out := b.done()
	return Change{Op: op, NewText: out, Start: start, End: end, Text: text, Alternative: -1, Open: -1}, nil
}

// forEachTopSlashEscape calls f with the code-point and byte offsets of the
// '\' of every escape `\/` outside the brackets nested in s (s is an
// alternative: its brackets are balanced).
func forEachTopSlashEscape(s string, f func(cp, off int)) {
	depth, cp := 0, 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && isEscapable(s[i+1]):
			if depth == 0 && s[i+1] == '/' {
				f(cp, i)
			}
			i, cp = i+2, cp+2
			continue
		case c == '[':
			depth++
		case c == ']':
			depth--
		}
		if c < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		cp++
	}
}

// unescapeTopSlashes turns the escape `\/` into '/' outside the brackets
// nested in s (s is an alternative: its brackets are balanced).
func unescapeTopSlashes(s string) string {
	if !strings.Contains(s, `\/`) {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && isEscapable(s[i+1]):
			if depth > 0 || s[i+1] != '/' {
				b.WriteByte(c)
			}
			i++
			c = s[i]
		case c == '[':
			depth++
		case c == ']':
			depth--
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Propose builds the op that adds text (plain text: escaped as needed) as a
// new last alternative of group g. A single bracket gets "/text" before its
// ']' ("[shall/may]" → "[shall/may/must]"; an optional "[all]" becomes
// "[all/text]"); a group of adjacent brackets gets a new bracket after its
// last one, with the same separator as between its last two ("[shall] or
// [may]" → "[shall] or [may] or [must]"). The group keeps its id. Errors:
// ErrNoGroup, ErrText (invalid UTF-8).
func (r Result) Propose(g int, text string) (Change, error) {
	grp, err := r.group(g)
	if err != nil {
		return Change{}, err
	}
	if !utf8.ValidString(text) {
		return Change{}, fmt.Errorf("proposal: %w", ErrText)
	}
	alt := Escape(text)
	s := r.Text
	b := newBuilder(s)
	if n := len(grp.Brackets); n == 1 {
		b.skipTo(grp.End-1, grp.endByte-1)
		b.insert("/" + alt)
	} else {
		sepStart := byteOffset(s, grp.Start, grp.startByte, grp.Brackets[n-2].End)
		sepEnd := byteOffset(s, grp.Brackets[n-2].End, sepStart, grp.Brackets[n-1].Start)
		b.skipTo(grp.End, grp.endByte)
		b.insert(s[sepStart:sepEnd] + "[" + alt + "]")
	}
	op, out := b.done()
	return Change{Op: op, NewText: out, Start: grp.Start, End: grp.End, Text: alt,
		Alternative: len(grp.Alternatives), Open: -1}, nil
}

// Wrap builds the op that brackets the span [start, end) as a new group
// "[span/text]", text (plain, escaped as needed) being the proposed
// alternative; with an empty text, "[span]" (proposing the span be
// optional); with an empty span, "[text]" (proposing optional new text).
// The span's own top-level '/' are escaped so it stays one alternative. The
// span must not cross a group's boundary (it may hold whole groups, or lie
// inside one alternative, making the new group a nested one), hold an
// unmatched bracket, start or end inside an escape, or touch a group it
// would merge with. Errors: ErrSpan, ErrText.
func (r Result) Wrap(start, end int, text string) (Change, error) {
	if err := r.spanInText(start, end); err != nil {
		return Change{}, err
	}
	if err := proposalText(start, end, text); err != nil {
		return Change{}, err
	}
	if err := r.crossing(start, end); err != nil {
		return Change{}, err
	}
	s := r.Text
	startByte := byteOffset(s, 0, 0, start)
	endByte := byteOffset(s, start, startByte, end)
	if err := splitsEscape(s, start, end, startByte, endByte); err != nil {
		return Change{}, err
	}
	alt := Escape(text)
	b := newBuilder(s)
	b.skipTo(start, startByte)
	b.insert("[")
	// Top-level '/' of the span are plain text now (or already escaped, in
	// a nested span) and would become separators.
	eachTopSlash(s, startByte, endByte, start, func(cp, i int) {
		b.skipTo(cp, i)
		b.insert(`\`)
	})
	b.skipTo(end, endByte)
	b.insert(wrapClosing(start, end, text, alt))
	op, out := b.done()
	ch := Change{Op: op, NewText: out, Start: start, End: end, Text: alt, Alternative: 1, Open: 0}
	if start == end || text == "" {
		ch.Alternative = 0
	}
	if !r.wrapsAsOneGroup(out, start, ch.Alternative+1, text, alt) {
		return Change{}, fmt.Errorf("span [%d,%d) would merge with an adjacent group: %w", start, end, ErrSpanJoins)
	}
	return ch, nil
}

// spanInText refuses a span that is not inside the text.
func (r Result) spanInText(start, end int) error {
	if start < 0 || end < start || end > r.Len {
		return fmt.Errorf("span [%d,%d) of %d code points: %w", start, end, r.Len, ErrSpanRange)
	}
	return nil
}

// proposalText refuses a proposal's text that is not UTF-8, or empty on an
// empty span (it would add nothing).
func proposalText(start, end int, text string) error {
	if !utf8.ValidString(text) || (start == end && text == "") {
		return fmt.Errorf("proposal for [%d,%d): %w", start, end, ErrText)
	}
	return nil
}

// splitsEscape refuses a span [start, end) (bytes startByte, endByte of s)
// that starts or ends between a '\' and the character it escapes.
func splitsEscape(s string, start, end, startByte, endByte int) error {
	if oddBackslashes(s[:startByte]) || oddBackslashes(s[:endByte]) {
		return fmt.Errorf("span [%d,%d) starts or ends inside an escape: %w", start, end, ErrSpanEscape)
	}
	return nil
}

// wrapClosing is what Wrap writes after the span [start, end) proposing
// text (escaped: alt): the new alternative and the ']'.
func wrapClosing(start, end int, text, alt string) string {
	switch {
	case start == end:
		return alt + "]"
	case text == "":
		return "]"
	}
	return "/" + alt + "]"
}

// wrapsAsOneGroup reports whether out, the text after a Wrap at start,
// reads as r's groups plus exactly one new group at start of one bracket
// and alts alternatives, the last of them alt when text was proposed. The
// checks before the Wrap cannot see adjacency: "[a]x" wrapped at x would
// read as one group "[a][x/y]", as would "[a] or x".
func (r Result) wrapsAsOneGroup(out string, start, alts int, text, alt string) bool {
	after := Parse(out)
	if len(after.Groups) != len(r.Groups)+1 {
		return false
	}
	for _, g := range after.Groups {
		if g.Start != start {
			continue
		}
		if len(g.Brackets) != 1 || len(g.Alternatives) != alts {
			return false
		}
		return (alts == 1 && text == "") || g.Alternatives[alts-1].Text == alt
	}
	return false
}

// oddBackslashes reports whether s ends with an odd run of '\': its last
// '\' would escape whatever is written after s.
func oddBackslashes(s string) bool {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}

// eachTopSlash calls f with the code point and byte offsets of every '/'
// of s[startByte:endByte] that is outside any bracket of the span and not
// escaped: the slashes that would become separators once the span is
// wrapped in a group (Wrap and WrapMany escape them). start is the code
// point at startByte.
func eachTopSlash(s string, startByte, endByte, start int, f func(cp, i int)) {
	depth, cp := 0, start
	for i := startByte; i < endByte; {
		c := s[i]
		switch {
		case c == '\\' && i+1 < endByte && isEscapable(s[i+1]):
			i, cp = i+2, cp+2
			continue
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '/' && depth == 0:
			f(cp, i)
		}
		if c < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		cp++
	}
}
