package ot

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Apply returns doc with op applied. doc must be valid UTF-8 and op must
// pass Check (errors wrap ErrInvalidUTF8 or ErrMalformed); a skip or delete
// past the end of doc fails with ErrSkipPastEnd or ErrDeletePastEnd, and a
// {"d":"s"} whose text differs from doc with ErrDeleteMismatch. For a large
// draft edited many times use Text, which does not copy the whole draft.
func Apply(doc string, op Op) (string, error) {
	if err := op.Check(); err != nil {
		return "", err
	}
	if !utf8.ValidString(doc) {
		return "", fmt.Errorf("draft: %w", ErrInvalidUTF8)
	}
	grow := len(doc)
	for _, c := range op {
		grow += len(c.Insert)
	}
	var out strings.Builder
	out.Grow(grow)
	at, pre := 0, 0 // byte and code point offsets into doc
	for i, c := range op {
		switch c.kind() {
		case kindSkip:
			end, ok := advance(doc, at, c.Skip)
			if !ok {
				return "", fmt.Errorf("component %d: skip %d from %d: draft has %d code points: %w",
					i, c.Skip, pre, pre+utf8.RuneCountInString(doc[at:]), ErrSkipPastEnd)
			}
			out.WriteString(doc[at:end])
			at = end
			pre += c.Skip
		case kindInsert:
			out.WriteString(c.Insert)
		case kindDelete:
			end, ok := advance(doc, at, c.Delete)
			if !ok {
				return "", fmt.Errorf("component %d: delete %d at %d: draft has %d code points: %w",
					i, c.Delete, pre, pre+utf8.RuneCountInString(doc[at:]), ErrDeletePastEnd)
			}
			if c.Deleted != "" && doc[at:end] != c.Deleted {
				return "", fmt.Errorf("component %d: delete of %s at %d finds %s: %w",
					i, short(c.Deleted), pre, short(doc[at:end]), ErrDeleteMismatch)
			}
			at = end
			pre += c.Delete
		}
	}
	out.WriteString(doc[at:])
	return out.String(), nil
}

// advance returns the byte offset n code points after byte offset at in s,
// and false if s ends first.
func advance(s string, at, n int) (int, bool) {
	for ; n > 0; n-- {
		if at >= len(s) {
			return at, false
		}
		if s[at] < utf8.RuneSelf {
			at++
		} else {
			_, w := utf8.DecodeRuneInString(s[at:])
			at += w
		}
	}
	return at, true
}

// runeOffset returns the byte offset of code point n in s (valid UTF-8,
// with at least n code points).
func runeOffset(s string, n int) int {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
	}
	return i
}

// taker hands out an op piece by piece, like ot-text-unicode's makeTake.
type taker struct {
	op   Op
	idx  int // next component
	off  int // code points of op[idx] already taken
	boff int // bytes of op[idx].Insert or op[idx].Deleted already taken
	clen int // code points of op[idx], or -1 when not yet counted
}

func newTaker(op Op) taker { return taker{op: op, clen: -1} }

// peek returns the kind of the next component (kindEmpty at the end).
func (t *taker) peek() kind {
	if t.idx == len(t.op) {
		return kindEmpty
	}
	return t.op[t.idx].kind()
}

func (t *taker) next() {
	t.idx++
	t.off, t.boff, t.clen = 0, 0, -1
}

// take returns up to n code points of the op and their kind. With n < 0 it
// returns the rest of the current component, and kindEmpty at the end of
// the op; otherwise at the end of the op it returns a skip of n (ops end in
// an implicit skip). A component of kind whole is never split.
func (t *taker) take(n int, whole kind) (kind, Component) {
	if t.idx == len(t.op) {
		if n < 0 {
			return kindEmpty, Component{}
		}
		return kindSkip, Component{Skip: n}
	}
	cur := &t.op[t.idx]
	var k kind
	switch {
	case cur.Insert != "":
		k = kindInsert
		if t.clen < 0 && n >= 0 && whole != kindInsert {
			t.clen = utf8.RuneCountInString(cur.Insert)
		}
	case cur.Skip > 0:
		k = kindSkip
		t.clen = cur.Skip
	default:
		k = kindDelete
		t.clen = cur.Delete
	}
	if n < 0 || k == whole || t.clen-t.off <= n {
		var c Component
		switch k {
		case kindSkip:
			c.Skip = t.clen - t.off
		case kindInsert:
			c.Insert = cur.Insert[t.boff:]
		case kindDelete:
			c.Delete = t.clen - t.off
			if cur.Deleted != "" {
				c.Deleted = cur.Deleted[t.boff:]
			}
		}
		t.next()
		return k, c
	}
	var c Component
	switch k {
	case kindSkip:
		c.Skip = n
	case kindInsert:
		end := t.boff + runeOffset(cur.Insert[t.boff:], n)
		c.Insert = cur.Insert[t.boff:end]
		t.boff = end
	case kindDelete:
		c.Delete = n
		if cur.Deleted != "" {
			end := t.boff + runeOffset(cur.Deleted[t.boff:], n)
			c.Deleted = cur.Deleted[t.boff:end]
			t.boff = end
		}
	}
	t.off += n
	return k, c
}

// checkMerged checks both ops and returns them with adjacent components of
// one kind merged (normalised only when they need it, so the usual normal
// ops are not copied): the common first step of Transform and Compose.
func checkMerged(a, b Op) (Op, Op, error) {
	adjA, err := a.check()
	if err != nil {
		return nil, nil, err
	}
	adjB, err := b.check()
	if err != nil {
		return nil, nil, err
	}
	if adjA {
		a = Normalize(a)
	}
	if adjB {
		b = Normalize(b)
	}
	return a, b, nil
}

// Transform returns op transformed to apply after other, where both were
// made on the same draft, with ot-text-unicode's rules: where both insert
// at the same position, op's insert goes first if side is Left and after
// other's if side is Right; text both delete is deleted once; op's inserts
// inside text other deleted are kept. The result is normal (see Normalize).
//
// Adjacent components of one kind are merged first, so Transform(op, other)
// equals ot-text-unicode's transform(normalize(op), normalize(other)). The
// reference accepts two adjacent inserts and transforms them apart, and
// then concurrent ops need not converge ([1,"a","b"] against ["c",1,"d"]
// on "x" gives "cxabd" one way and "cxadb" the other); merged, they do.
//
// Both ops must pass Check; a side other than Left or Right is also
// reported as ErrMalformed. Their lengths are not compared: an op ends in
// an implicit skip, as in the reference.
func Transform(op, other Op, side Side) (Op, error) {
	if side != Left && side != Right {
		return nil, fmt.Errorf("transform side %v: %w", side, ErrMalformed)
	}
	op, other, err := checkMerged(op, other)
	if err != nil {
		return nil, err
	}
	out := appender{op: make(Op, 0, len(op)+1)}
	t := newTaker(op)
	for i := range other {
		c2 := &other[i]
		switch {
		case c2.Skip > 0:
			for n := c2.Skip; n > 0; {
				k, c1 := t.take(n, kindInsert)
				out.addKind(k, c1)
				if k != kindInsert {
					n -= c1.Skip + c1.Delete
				}
			}
		case c2.Insert != "":
			if side == Left && t.peek() == kindInsert {
				k, c1 := t.take(-1, kindEmpty)
				out.addKind(k, c1)
			}
			out.skip(utf8.RuneCountInString(c2.Insert))
		default: // delete
			for n := c2.Delete; n > 0; {
				k, c1 := t.take(n, kindInsert)
				switch k {
				case kindSkip:
					n -= c1.Skip
				case kindInsert:
					out.addKind(k, c1)
				case kindDelete:
					// Already deleted by other.
					n -= c1.Delete
				}
			}
		}
	}
	for {
		k, c1 := t.take(-1, kindEmpty)
		if k == kindEmpty {
			break
		}
		out.addKind(k, c1)
	}
	return out.done(), nil
}

// Compose returns one op with the effect of a followed by b (b made on the
// draft a produces), built as ot-text-unicode's compose builds it. Deleted
// text is kept where both ops carry it, so composing invertible ops gives an
// invertible op. Like Transform it merges adjacent components of one kind
// in a and b first. Both ops must pass Check; their lengths are not
// compared.
func Compose(a, b Op) (Op, error) {
	a, b, err := checkMerged(a, b)
	if err != nil {
		return nil, err
	}
	out := appender{op: make(Op, 0, len(a)+len(b))}
	t := newTaker(a)
	for i := range b {
		c2 := &b[i]
		switch {
		case c2.Skip > 0:
			for n := c2.Skip; n > 0; {
				k, c1 := t.take(n, kindDelete)
				out.addKind(k, c1)
				switch k {
				case kindSkip:
					n -= c1.Skip
				case kindInsert:
					n -= utf8.RuneCountInString(c1.Insert)
				}
			}
		case c2.Insert != "":
			out.addKind(kindInsert, *c2)
		default: // delete
			boff := 0 // bytes of c2.Deleted already used
			for n := c2.Delete; n > 0; {
				k, c1 := t.take(n, kindDelete)
				switch k {
				case kindSkip:
					// b deletes text a kept: that part of b's delete.
					d := Component{Delete: c1.Skip}
					if c2.Deleted != "" {
						end := boff + runeOffset(c2.Deleted[boff:], c1.Skip)
						d.Deleted = c2.Deleted[boff:end]
						boff = end
					}
					out.addKind(kindDelete, d)
					n -= c1.Skip
				case kindInsert:
					// b deletes text a inserted: both vanish.
					cn := utf8.RuneCountInString(c1.Insert)
					if c2.Deleted != "" {
						boff += runeOffset(c2.Deleted[boff:], cn)
					}
					n -= cn
				case kindDelete:
					out.addKind(k, c1)
				}
			}
		}
	}
	for {
		k, c1 := t.take(-1, kindEmpty)
		if k == kindEmpty {
			break
		}
		out.addKind(k, c1)
	}
	return out.done(), nil
}

// TransformPosition returns where a cursor at code point pos ends up after
// op, exactly as ot-text-unicode's transformPosition: an insert before the
// cursor pushes it right, an insert at the cursor does not; a delete before
// the cursor pulls it left, one spanning it moves it to the delete's start.
// op is assumed to pass Check.
func TransformPosition(pos int, op Op) int { return movePosition(pos, op, false) }

// movePosition is TransformPosition; pushed says whether an insert at pos
// pushes it right (TransformSpan's start) rather than not.
func movePosition(pos int, op Op, pushed bool) int {
	at := 0 // position in the new draft reached so far
	for i := 0; i < len(op) && (pos > at || pushed && pos == at); i++ {
		c := op[i]
		switch c.kind() {
		case kindSkip:
			at += c.Skip
		case kindInsert:
			n := utf8.RuneCountInString(c.Insert)
			at += n
			pos += n
		case kindDelete:
			pos -= min(c.Delete, pos-at)
		}
	}
	return pos
}

// TransformSelection transforms both ends (anchor, head) of a selection
// with TransformPosition.
func TransformSelection(sel [2]int, op Op) [2]int {
	return [2]int{TransformPosition(sel[0], op), TransformPosition(sel[1], op)}
}
