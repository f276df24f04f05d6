package provisions

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Errors returned (wrapped, with detail) by this package; tell them apart
// with errors.Is.
var (
	// ErrOp: an op that is malformed or does not fit the tracked text.
	ErrOp = errors.New("provisions: op does not fit the tracked text")
	// ErrRevision: Tracker.Apply called with a revision that does not
	// follow the tracker's own.
	ErrRevision = errors.New("provisions: revision out of sequence")
	// ErrCorrupt: tracker state that cannot be decoded or is inconsistent.
	ErrCorrupt = errors.New("provisions: corrupt tracker state")
	// ErrBadID: a provision id that is not of the form p<rev>.<k>.
	ErrBadID = errors.New("provisions: malformed provision id")
	// ErrOutOfSync: a tracker used with a text it does not describe.
	ErrOutOfSync = errors.New("provisions: tracker out of sync with the text")
	// ErrLocked: an op that would change the text of an agreed provision.
	ErrLocked = errors.New("provisions: agreed text is locked")
	// ErrStatus: a status that is not one of the four, or a change the
	// provision's state does not allow (agreeing text with an open bracket).
	ErrStatus = errors.New("provisions: status change not allowed")
)

// Provision is one provision of a text.
type Provision struct {
	// ID is the provision's identity, p<rev>.<k> (see Tracker); Parse
	// leaves it empty, Tracker.List sets it.
	ID    string `json:"id"`
	Kind  Kind   `json:"kind"`
	Num   string `json:"num"`   // as written, without punctuation: "17 bis", "2", "a", "iv", "II"; "" for an unnumbered preambular paragraph
	Title string `json:"title"` // a heading's title on its line, trimmed; "" otherwise
	// Span is [start, end) in code points: from the start of the
	// provision's line (its indentation included) to the start of the next
	// provision of its level or above, or the end of the text. A
	// provision's span holds its subdivisions.
	Span [2]int `json:"span"`
	// Mark is the code point of the marker's first character ("A" of
	// "Article 17", "2" of "2.", "(" of "(a)"): the character whose
	// identity is the provision's.
	Mark int `json:"-"`
	// Parent is the index in the list of the enclosing provision, -1 for
	// none.
	Parent int `json:"-"`
	// NumSpan is where Num is written, [start, end) in code points.
	NumSpan [2]int `json:"-"`
}

// Parse reads the provisions of text, in text order (a provision before its
// subdivisions). The grammar is in docs/PROVISIONS.md. It never fails: text
// that is not a provision is part of the provision before it.
func Parse(text string) []Provision {
	lines, n := scanText(text, 0, true)
	return structure(lines, n)
}

// scanText reads the lines of s, whose first code point is at base, that
// matter to the structure. With untilHeading, plain lines are kept only
// before the first heading (Parse); without, all of them are (the tracker
// filters them afterwards). It returns the lines and the code points of s.
func scanText(s string, base int, untilHeading bool) ([]line, int) {
	var lines []line
	cp := base
	heading := false
	for len(s) > 0 {
		end := strings.IndexByte(s, '\n')
		var ln string
		if end < 0 {
			ln, s = s, ""
		} else {
			ln, s = s[:end], s[end+1:]
		}
		if l, ok := scanLine(ln, cp); ok && (l.cls != clsPlain || !untilHeading || !heading) {
			lines = append(lines, l)
			heading = heading || l.cls == clsHeading
		}
		cp += utf8.RuneCountInString(ln)
		if end >= 0 {
			cp++
		}
	}
	return lines, cp - base
}

// structure turns the lines of a text of n code points into provisions:
// plain lines are preambular paragraphs when they come before the first
// heading and the preamble is not numbered with PP; (i), (v), (x) are
// letters after (h), (u), (w) and Roman numerals otherwise; spans and
// parents follow the levels of the kinds.
func structure(lines []line, n int) []Provision {
	first, pp := -1, false
	for i, l := range lines {
		if l.cls == clsHeading {
			first = i
			break
		}
		pp = pp || l.cls == clsPP
	}
	out := make([]Provision, 0, len(lines))
	stack := make([]int, 0, 8)
	lastLetter := "" // base label of the last subparagraph since the last paragraph or heading
	for i, l := range lines {
		if l.cls == clsPlain && (first < 0 || i > first || pp) {
			continue
		}
		kind := l.kind
		if l.cls == clsSub {
			base, _, _ := strings.Cut(l.num, " ")
			switch {
			case l.letter && l.roman:
				if lastLetter != "" && (lastLetter == base || nextLetter(lastLetter) == base) {
					kind = Subparagraph
				} else {
					kind = Item
				}
			case l.roman:
				kind = Item
			}
			if kind == Subparagraph {
				lastLetter = base
			}
		} else {
			lastLetter = ""
		}
		level := kind.level()
		for len(stack) > 0 && out[stack[len(stack)-1]].Kind.level() >= level {
			out[stack[len(stack)-1]].Span[1] = l.start
			stack = stack[:len(stack)-1]
		}
		parent := -1
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		out = append(out, Provision{Kind: kind, Num: l.num, Title: l.title, Span: [2]int{l.start, n}, Mark: l.mark, Parent: parent,
			NumSpan: [2]int{l.mark + l.numFrom, l.mark + l.numTo}})
		stack = append(stack, len(out)-1)
	}
	return out
}

// nextLetter is the letter after the one-letter string s ("" after z).
func nextLetter(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == 'z' || r == 'я' {
		return ""
	}
	return string(r + 1)
}
