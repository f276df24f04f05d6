package brackets

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// Index keeps what the number of groups and diagnostics of a draft depends
// on, and follows it through the draft's ops at a cost in proportion to the
// edit, not to the text: the positions of the unescaped '[' and ']' (the
// tokens), and for each ']' whether a separator and a '[' follow it. Apply
// reads only the text around each edit (the run of backslashes before it,
// the gap after the ']' before it) and recounts from the tokens alone, and
// only when a token or a separator changed: typing inside an alternative
// costs a binary search, adding a '[' a pass over the tokens (about 30 µs
// for 5,000 groups), never a pass over the text.
//
// The counts are those of Parse: Groups() == len(Parse(text).Groups) and
// Diagnostics() == len(Parse(text).Diagnostics) after every op
// (FuzzIndex checks it). An Index is not safe for concurrent use; the
// draft's owner goroutine owns it.
type Index struct {
	length int // code points of the text described
	toks   []indexTok
	groups int
	diags  int
	// scratch for recount
	open    []int
	matched []bool
	last    []int
}

// indexTok is one unescaped '[' or ']' of the text.
type indexTok struct {
	pos  int
	char byte
	// join, for a ']': the next token is a '[' and the text between them
	// is a separator (rule 4), so the two brackets belong to one group when
	// they pair at the same depth.
	join bool
}

// indexBulkEdits: an op with more edits than this (an import's diff) is
// followed by indexing the new text afresh, in one pass.
const indexBulkEdits = 24

// NewIndex indexes text.
func NewIndex(text string) *Index {
	x := &Index{}
	x.reset(text)
	return x
}

func (x *Index) reset(text string) {
	var offs []int
	x.toks, offs = scanTokens(text, 0, x.toks[:0], offs)
	x.length = utf8.RuneCountInString(text)
	for i := range x.toks {
		t := &x.toks[i]
		t.join = t.char == ']' && i+1 < len(x.toks) && x.toks[i+1].char == '[' &&
			isSeparator(text[offs[i]+1:offs[i+1]])
	}
	x.recount()
}

// Groups returns the number of groups of the text, nested ones included.
func (x *Index) Groups() int { return x.groups }

// Diagnostics returns the number of diagnostics of the text.
func (x *Index) Diagnostics() int { return x.diags }

// Len returns the length in code points of the text the index describes.
func (x *Index) Len() int { return x.length }

// Apply follows op, which took the indexed text to text (the text after
// the op: the caller's, read only around the edits). changed reports
// whether the counts may have changed. On error (ErrOp: op malformed, or
// text is not op applied to the indexed text, by length) the index is
// unchanged.
func (x *Index) Apply(op ot.Op, text *ot.Text) (changed bool, err error) {
	base, edits, inserted, deleted := 0, 0, 0, 0
	for i, c := range op {
		switch {
		case c.Skip > 0 && c.Insert == "" && c.Delete == 0 && c.Deleted == "":
			if c.Skip > x.length-base {
				return false, fmt.Errorf("op skips past the end of %d code points: %w", x.length, ErrOp)
			}
			base += c.Skip
		case c.Insert != "" && c.Skip == 0 && c.Delete == 0 && c.Deleted == "":
			inserted += utf8.RuneCountInString(c.Insert)
			edits++
		case c.Delete > 0 && c.Skip == 0 && c.Insert == "":
			if c.Delete > x.length-base {
				return false, fmt.Errorf("op deletes past the end of %d code points: %w", x.length, ErrOp)
			}
			base += c.Delete
			deleted += c.Delete
			edits++
		default:
			return false, fmt.Errorf("component %d: %w", i, ErrOp)
		}
	}
	if n := x.length + inserted - deleted; text.Len() != n {
		return false, fmt.Errorf("text has %d code points, op gives %d: %w", text.Len(), n, ErrOp)
	}
	if edits == 0 {
		return false, nil
	}
	if edits > indexBulkEdits {
		g, d := x.groups, x.diags
		x.reset(text.String())
		return g != x.groups || d != x.diags, nil
	}
	before := len(x.toks)
	regions := x.move(op)
	x.length = text.Len()
	dirty := len(x.toks) != before // a delete took tokens
	for _, r := range regions {
		if x.rescan(text, r[0], r[1]) {
			dirty = true
		}
	}
	if !dirty {
		return false, nil
	}
	g, d := x.groups, x.diags
	x.recount()
	return g != x.groups || d != x.diags, nil
}

// move maps the tokens through op (dropping the deleted ones) and returns
// the edited regions [p, q) of the new text: what each run of inserts and
// deletes between two skips became.
func (x *Index) move(op ot.Op) [][2]int {
	var regions [][2]int
	w, j := 0, 0
	oldAt, newAt := 0, 0
	keep := func(upTo int) { // tokens before old position upTo move by newAt-oldAt
		e, _ := slices.BinarySearchFunc(x.toks[j:], upTo, func(t indexTok, pos int) int { return t.pos - pos })
		e += j
		d := newAt - oldAt
		if w == j {
			// Nothing dropped yet: shift in place (nothing at all before
			// the first edit).
			if d != 0 {
				for k := j; k < e; k++ {
					x.toks[k].pos += d
				}
			}
			w, j = e, e
			return
		}
		for ; j < e; j++ {
			t := x.toks[j]
			t.pos += d
			x.toks[w] = t
			w++
		}
	}
	for i := 0; i < len(op); {
		if c := op[i]; c.Skip > 0 {
			keep(oldAt + c.Skip)
			oldAt += c.Skip
			newAt += c.Skip
			i++
			continue
		}
		p := newAt
		for ; i < len(op) && op[i].Skip == 0; i++ {
			c := op[i]
			if c.Insert != "" {
				newAt += utf8.RuneCountInString(c.Insert)
				continue
			}
			keep(oldAt) // before the delete
			for j < len(x.toks) && x.toks[j].pos < oldAt+c.Delete {
				j++
			}
			oldAt += c.Delete
		}
		regions = append(regions, [2]int{p, newAt})
	}
	keep(x.length + 1)
	x.toks = x.toks[:w]
	// Tokens after the last edit, not reached by keep: none, keep ran to
	// the end of the old text.
	return regions
}

// rescan reads the text around the edited region [p, q) again and puts its
// tokens in place of those the index had there; it reports whether a token
// or a join changed. The window runs from the start of the run of
// backslashes before p (an escape may have changed) to past the run of
// backslashes from q and the character after it (its escape may have
// changed too).
func (x *Index) rescan(text *ot.Text, p, q int) bool {
	n := text.Len()
	a := p
	for a > 0 {
		from := max(0, a-64)
		s := text.Slice(from, a)
		k := len(s) - len(strings.TrimRight(s, `\`))
		a -= k
		if k < len(s) || from == 0 {
			break
		}
	}
	b := q
	for b < n {
		to := min(n, b+64)
		s := text.Slice(b, to)
		k := len(s) - len(strings.TrimLeft(s, `\`))
		b += k
		if k < len(s) {
			b++ // the character after the run
			break
		}
	}
	b = min(b, n)
	window := text.Slice(a, b)
	lo, _ := slices.BinarySearchFunc(x.toks, a, func(t indexTok, pos int) int { return t.pos - pos })
	hi, _ := slices.BinarySearchFunc(x.toks, b, func(t indexTok, pos int) int { return t.pos - pos })
	fresh, _ := scanTokens(window, a, nil, nil)
	dirty := len(fresh) != hi-lo
	for i := 0; !dirty && i < len(fresh); i++ {
		dirty = fresh[i].pos != x.toks[lo+i].pos || fresh[i].char != x.toks[lo+i].char
	}
	if dirty {
		x.toks = slices.Replace(x.toks, lo, hi, fresh...) // joins set below
	}
	// Joins: the ']' before the window (its gap runs into it) and those in
	// it.
	read := func(a, b int) string { return text.Slice(a, b) }
	for i := max(lo-1, 0); i < lo+len(fresh) && i < len(x.toks); i++ {
		if j := x.toks[i].char == ']' && x.joinAfter(i, read); j != x.toks[i].join {
			x.toks[i].join = j
			dirty = true
		}
	}
	return dirty
}

// joinAfter reports whether token i (a ']') is followed by a separator and
// a '[' token; read returns the text [a, b) in code points.
func (x *Index) joinAfter(i int, read func(a, b int) string) bool {
	if i+1 >= len(x.toks) || x.toks[i+1].char != '[' {
		return false
	}
	from, to := x.toks[i].pos+1, x.toks[i+1].pos
	if to-from > 64 {
		// A separator is blanks and "or": look at its start first, so that
		// a long gap of ordinary text is not read whole.
		if !isSeparatorPrefix(read(from, from+64)) {
			return false
		}
	}
	return isSeparator(read(from, to))
}

// isSeparatorPrefix reports whether s could start a separator: blanks and
// the letters of "or" only.
func isSeparatorPrefix(s string) bool {
	for _, r := range s {
		switch r {
		case ' ', '\t', '\u00a0', '\u202f', 'o', 'r':
		default:
			return false
		}
	}
	return true
}

// scanTokens appends to toks the unescaped '[' and ']' of s, whose first
// code point is at position base, reading escapes as Parse does, and their
// byte offsets in s to offs.
func scanTokens(s string, base int, toks []indexTok, offs []int) ([]indexTok, []int) {
	cp := base
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && isEscapable(s[i+1]):
			i, cp = i+2, cp+2
			continue
		case c == '[' || c == ']':
			toks = append(toks, indexTok{pos: cp, char: c})
			offs = append(offs, i)
		}
		if c < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		cp++
	}
	return toks, offs
}

// recount derives the counts from the tokens as build does: pairs by a
// stack, brackets deeper than MaxDepth as text, a group per matched '['
// that does not join the bracket closed just before it at the same depth.
func (x *Index) recount() {
	n := len(x.toks)
	x.matched = slices.Grow(x.matched[:0], n)[:n]
	x.open = x.open[:0]
	diags := 0
	for i, t := range x.toks {
		x.matched[i] = false
		if t.char == '[' {
			x.open = append(x.open, i)
			continue
		}
		if k := len(x.open); k > 0 {
			x.matched[x.open[k-1]], x.matched[i] = true, true
			x.open = x.open[:k-1]
		} else {
			diags++ // unmatched
		}
	}
	diags += len(x.open) // unclosed
	groups, depth, deep := 0, 0, 0
	x.last = append(x.last[:0], -1)
	for i, t := range x.toks {
		if !x.matched[i] {
			continue
		}
		if deep > 0 {
			if t.char == '[' {
				deep++
			} else {
				deep--
			}
			continue
		}
		if t.char == ']' {
			depth--
			x.last[depth] = i
			continue
		}
		if depth >= MaxDepth {
			deep = 1
			diags++
			continue
		}
		if l := x.last[depth]; l < 0 || l != i-1 || !x.toks[l].join {
			groups++
		}
		depth++
		if len(x.last) <= depth {
			x.last = append(x.last, -1)
		} else {
			x.last[depth] = -1
		}
	}
	x.groups, x.diags = groups, diags
}
