package provisions

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// NumberChange is a provision whose number a renumbering changes.
type NumberChange struct {
	Index int    `json:"-"` // in Parse's list of the old text
	Kind  Kind   `json:"kind"`
	From  string `json:"from"`
	To    string `json:"to"`
	Span  [2]int `json:"span"` // where From is written in the old text
}

// Reference is a cross-reference whose number a renumbering changes.
type Reference struct {
	Text string `json:"text"` // the reference as written ("paragraph 2 of article 5")
	From string `json:"from"`
	To   string `json:"to"`
	Span [2]int `json:"span"` // where From is written in the old text
}

// Unresolved is a cross-reference a renumbering leaves as it is because it
// cannot tell what it points to.
type Unresolved struct {
	Text   string `json:"text"`
	Span   [2]int `json:"span"`
	Reason string `json:"reason"`
}

// Edit is one replacement a renumbering makes: the old text's code points
// Span, Old, become New.
type Edit struct {
	Span [2]int `json:"span"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// Renumbering is what Renumber would do to a text: one op (its Edits), the
// new text, the numbers and references it changes, and the references it
// could not resolve.
type Renumbering struct {
	Op         ot.Op
	Edits      []Edit
	Text       string
	Numbers    []NumberChange
	References []Reference
	Unresolved []Unresolved
}

// Renumber numbers the provisions of text sequentially (articles across the
// text; parts, chapters and sections likewise; paragraphs, subparagraphs,
// items and numbered preambular paragraphs within their parent), so that
// "3 bis" becomes "4" and what followed moves up, and updates the
// cross-references in the text to the new numbers: "article 17",
// "articles 12 to 15", "paragraph 2 of article 5", "paragraph 2 of this
// article", "article 5, paragraph 2", "subparagraph (b)", "subparagraph
// (b) of paragraph 2", and the French "article 17", "articles 12 à 15",
// "paragraphe 2 de l'article 5", "paragraphe 2 du présent article",
// "alinéa b)". A paragraph or subparagraph reference without "of" is read
// in the article or paragraph it stands in.
//
// Numbers are renumbered when written in ASCII digits (articles,
// paragraphs, PP), capital Roman numerals or digits (parts, chapters,
// sections), Latin letters (subparagraphs) and lowercase Roman numerals
// (items); others are left as written. Renumbering a renumbered text
// changes nothing.
func Renumber(text string) Renumbering {
	list := Parse(text)
	runes := []rune(text)
	var out Renumbering
	newNum, numbers, edits := newNumbers(list)
	out.Numbers = numbers
	tables := newNumberTables(list, newNum)
	refs, unresolved, refEdits := renumberReferences(text, runes, list, tables)
	out.References, out.Unresolved = refs, unresolved
	out.Op, out.Edits, out.Text = applyEdits(runes, append(edits, refEdits...))
	return out
}

// numberEdit replaces code points [from, to) with with.
type numberEdit struct {
	from, to int
	with     string
}

// newNumbers numbers the provisions of list sequentially: the number of
// each (as written when it keeps it), the changes, and their edits.
func newNumbers(list []Provision) ([]string, []NumberChange, []numberEdit) {
	var (
		changes []NumberChange
		edits   []numberEdit
	)
	newNum := make([]string, len(list))
	counters := make(map[[2]int]int) // (parent, level class) → count
	for i, p := range list {
		newNum[i] = p.Num
		if p.Kind == Preamble && p.Num == "" {
			continue
		}
		key := [2]int{p.Parent, p.Kind.level()}
		switch p.Kind {
		case Article, Part, Chapter, Section:
			key[0] = -2 // across the text
		}
		counters[key]++
		k := counters[key]
		if n, ok := renumbered(p, k); ok && n != p.Num {
			newNum[i] = n
			changes = append(changes, NumberChange{Index: i, Kind: p.Kind, From: p.Num, To: n, Span: p.NumSpan})
			edits = append(edits, numberEdit{p.NumSpan[0], p.NumSpan[1], n})
		}
	}
	return newNum, changes, edits
}

// numberTables map old numbers to new ones: articles across the text,
// paragraphs per article, subparagraphs per paragraph. "" marks an
// ambiguous old number (written twice). marks holds the code points of
// the provisions' markers.
type numberTables struct {
	articles map[string]string
	paras    map[int]map[string]string // article index → ...
	subs     map[int]map[string]string // paragraph index → ...
	marks    map[int]bool
}

func newNumberTables(list []Provision, newNum []string) *numberTables {
	t := &numberTables{articles: make(map[string]string), paras: make(map[int]map[string]string),
		subs: make(map[int]map[string]string), marks: make(map[int]bool)}
	put := func(m map[string]string, from, to string) {
		if _, dup := m[from]; dup {
			m[from] = ""
			return
		}
		m[from] = to
	}
	in := func(m map[int]map[string]string, k int) map[string]string {
		if m[k] == nil {
			m[k] = make(map[string]string)
		}
		return m[k]
	}
	for i, p := range list {
		t.marks[p.Mark] = true
		switch p.Kind {
		case Article:
			put(t.articles, p.Num, newNum[i])
		case Paragraph:
			put(in(t.paras, ancestor(list, i, Article)), p.Num, newNum[i])
		case Subparagraph:
			if p.Parent >= 0 {
				put(in(t.subs, p.Parent), p.Num, newNum[i])
			}
		}
	}
	return t
}

// tableFor returns the table of the numbers reference r points to, as read
// at provision inside (the innermost that holds it), and the word for what
// they number; nil if the provision it names is not in the text.
func (t *numberTables) tableFor(list []Provision, r ref, inside int) (map[string]string, string) {
	art, para := ancestor(list, inside, Article), ancestor(list, inside, Paragraph)
	switch r.kind {
	case Article:
		return t.articles, "article"
	case Paragraph:
		a := art
		if r.article != "" {
			a = firstNumbered(list, Article, r.article)
		}
		if a < 0 {
			return nil, "paragraph"
		}
		return t.paras[a], "paragraph"
	case Subparagraph:
		p := para
		if r.paragraph != "" {
			a := art
			if r.article != "" {
				a = lastNumbered(list, Article, r.article)
			}
			p = -1
			for i, q := range list {
				if q.Kind == Paragraph && q.Num == r.paragraph && ancestor(list, i, Article) == a {
					p = i
				}
			}
		}
		if p < 0 {
			return nil, "subparagraph"
		}
		return t.subs[p], "subparagraph"
	}
	return nil, ""
}

// firstNumbered and lastNumbered return the index of the first or the last
// provision of kind k numbered num, or -1.
func firstNumbered(list []Provision, k Kind, num string) int {
	for i, p := range list {
		if p.Kind == k && p.Num == num {
			return i
		}
	}
	return -1
}

func lastNumbered(list []Provision, k Kind, num string) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Kind == k && list[i].Num == num {
			return i
		}
	}
	return -1
}

// renumberReferences reads the cross-references of text and brings their
// numbers to the new ones (tables): the references changed, those it
// cannot resolve, and the edits.
func renumberReferences(text string, runes []rune, list []Provision, t *numberTables) ([]Reference, []Unresolved, []numberEdit) {
	var (
		refs       []Reference
		unresolved []Unresolved
		edits      []numberEdit
	)
	conv := newCPConv(text)
	var prev ref // the reference before, for "article 5, paragraph 2"
	for _, m := range refWord.FindAllStringIndex(text, -1) {
		at := conv.cp(m[0])
		if t.marks[at] {
			continue // a heading's own word
		}
		r := readRef(text, m[0], m[1])
		if len(r.nums) == 0 {
			continue
		}
		if len(prev.nums) == 1 && prev.end <= m[0] && strings.TrimSpace(text[prev.end:m[0]]) == "," {
			switch {
			case prev.kind == Article && r.kind != Article && r.article == "":
				r.article = prev.nums[0].num
			case prev.kind == Paragraph && r.kind == Subparagraph && r.paragraph == "":
				r.paragraph, r.article = prev.nums[0].num, prev.article
			}
		}
		prev = r
		if r.external {
			continue // "article 2 of the Charter": another instrument
		}
		whole := string(runes[at:conv.cp(r.end)])
		table, what := t.tableFor(list, r, innermost(list, at))
		for _, n := range r.nums {
			span := [2]int{conv.cp(n.from), conv.cp(n.to)}
			to, ok := table[n.num]
			switch {
			case !ok:
				unresolved = append(unresolved, Unresolved{Text: whole, Span: span, Reason: "no " + what + " " + n.num + " here"})
			case to == "":
				unresolved = append(unresolved, Unresolved{Text: whole, Span: span, Reason: "two " + what + "s are numbered " + n.num})
			case to != n.num:
				refs = append(refs, Reference{Text: whole, From: n.num, To: to, Span: span})
				edits = append(edits, numberEdit{span[0], span[1], to})
			}
		}
	}
	return refs, unresolved, edits
}

// applyEdits makes edits to the text runes in one op, in order of
// position: the op, the edits as reported, and the new text.
func applyEdits(runes []rune, edits []numberEdit) (ot.Op, []Edit, string) {
	sort.Slice(edits, func(i, j int) bool { return edits[i].from < edits[j].from })
	var (
		op  ot.Op
		out []Edit
		b   strings.Builder
	)
	pos := 0
	for _, e := range edits {
		if e.from < pos {
			continue // overlapping (cannot happen: references skip markers)
		}
		if e.from > pos {
			op = append(op, ot.Skip(e.from-pos))
			b.WriteString(string(runes[pos:e.from]))
		}
		out = append(out, Edit{Span: [2]int{e.from, e.to}, Old: string(runes[e.from:e.to]), New: e.with})
		if e.to > e.from {
			op = append(op, ot.DeleteText(string(runes[e.from:e.to])))
		}
		if e.with != "" {
			op = append(op, ot.Insert(e.with))
			b.WriteString(e.with)
		}
		pos = e.to
	}
	b.WriteString(string(runes[pos:]))
	return ot.Normalize(op), out, b.String()
}

// renumbered writes number k for provision p in the style of its current
// number, or false to leave it as written.
func renumbered(p Provision, k int) (string, bool) {
	base, _, _ := strings.Cut(p.Num, " ")
	switch p.Kind {
	case Article, Paragraph, Preamble:
		if p.Kind == Article && (p.Num == "premier" || p.Num == "1er") {
			return p.Num, k == 1
		}
		if !dr.IsDigits(base) {
			return "", false
		}
		return strconv.Itoa(k), true
	case Part, Chapter, Section:
		if dr.IsDigits(base) {
			return strconv.Itoa(k), true
		}
		if romanValue(strings.ToLower(base)) > 0 && strings.ToUpper(base) == base && k < 40 {
			return strings.ToUpper(roman(k)), true
		}
		return "", false
	case Subparagraph:
		if len(base) == 1 && base[0] >= 'a' && base[0] <= 'z' && k <= 26 {
			return string(rune('a' + k - 1)), true
		}
		return "", false
	case Item:
		if romanValue(base) > 0 && k < 40 {
			return roman(k), true
		}
	}
	return "", false
}

// ancestor returns the index of the provision of kind k that holds
// provision i (i itself included), or -1.
func ancestor(list []Provision, i int, k Kind) int {
	for ; i >= 0; i = list[i].Parent {
		if list[i].Kind == k {
			return i
		}
	}
	return -1
}

// innermost returns the index of the last provision whose span holds code
// point p (the deepest), or -1.
func innermost(list []Provision, p int) int {
	i := sort.Search(len(list), func(i int) bool { return list[i].Span[0] > p }) - 1
	for ; i >= 0; i = list[i].Parent {
		if p < list[i].Span[1] {
			return i
		}
	}
	return -1
}

// refWord finds the words that open a cross-reference.
var refWord = regexp.MustCompile(`(?i)\b(?:sub-?paragraphs?|paragraphs?|paragraphes?|articles?|alinéas?)\b`)

// ref is a cross-reference read at a refWord.
type ref struct {
	kind      Kind
	nums      []refNum
	article   string // "of article 5": the article the numbers are in
	paragraph string // "of paragraph 2": for subparagraphs
	external  bool   // "of the Charter": another instrument
	end       int    // byte offset after the reference
}

type refNum struct {
	num      string
	from, to int // byte offsets of the number as written
}

// readRef reads the reference whose word is text[from:to].
func readRef(text string, from, to int) ref {
	word := strings.ToLower(text[from:to])
	r := ref{kind: Article, end: to}
	switch {
	case strings.HasPrefix(word, "sub") || strings.HasPrefix(word, "alin"):
		r.kind = Subparagraph
	case strings.HasPrefix(word, "paragraph"):
		r.kind = Paragraph
	}
	c := cursor{s: text, i: to}
	r.nums = c.numbers(r.kind)
	if len(r.nums) == 0 {
		return r
	}
	r.end = c.i
	// Qualifiers: "of paragraph 2", "of article 5", "of this article",
	// "de l'article 5", "du présent article", "of the Charter".
	for {
		save := c.i
		c.blanks()
		if !c.word("of") && !c.word("de") && !c.word("du") && !c.word("in") {
			c.i = save
			break
		}
		c.blanks()
		c.word("l'")
		c.word("l’")
		if c.word("this") || c.word("the present") || c.word("présent") || c.word("ce") {
			c.blanks()
			if c.word("article") || c.word("paragraph") || c.word("paragraphe") {
				r.end = c.i
				continue
			}
			c.i = save
			break
		}
		if c.word("article") {
			c.blanks()
			if ns := c.numbers(Article); len(ns) == 1 {
				r.article, r.end = ns[0].num, c.i
				continue
			}
		}
		if r.kind == Subparagraph && (c.word("paragraph") || c.word("paragraphe")) {
			c.blanks()
			if ns := c.numbers(Paragraph); len(ns) == 1 {
				r.paragraph, r.end = ns[0].num, c.i
				continue
			}
		}
		if r.kind == Article && (c.word("the") || c.word("la") || c.word("le")) {
			c.blanks()
			if w := c.peekWord(); w != "" && unicode.IsUpper(firstRune(w)) && w != "Convention" && w != "Protocol" && w != "Agreement" {
				r.external = true
			}
		}
		c.i = save
		break
	}
	return r
}

// cursor reads a reference at byte offset i of s.
type cursor struct {
	s string
	i int
}

func (c *cursor) blanks() {
	for c.i < len(c.s) {
		r, size := utf8.DecodeRuneInString(c.s[c.i:])
		if r != ' ' && r != '\u00a0' && r != '\t' {
			return
		}
		c.i += size
	}
}

// word consumes w (case-insensitive) if it is next and not followed by a
// letter.
func (c *cursor) word(w string) bool {
	if len(c.s)-c.i < len(w) || !strings.EqualFold(c.s[c.i:c.i+len(w)], w) {
		return false
	}
	if end := c.i + len(w); end < len(c.s) && !strings.HasSuffix(w, "'") && !strings.HasSuffix(w, "’") {
		if r, _ := utf8.DecodeRuneInString(c.s[end:]); unicode.IsLetter(r) {
			return false
		}
	}
	c.i += len(w)
	return true
}

func (c *cursor) peekWord() string {
	end := c.i
	for end < len(c.s) {
		r, size := utf8.DecodeRuneInString(c.s[end:])
		if !unicode.IsLetter(r) {
			break
		}
		end += size
	}
	return c.s[c.i:end]
}

// numbers reads "12", "12 to 15", "1, 2 and 3", "(a) and (b)", "b)".
func (c *cursor) numbers(k Kind) []refNum {
	var out []refNum
	for {
		save := c.i
		if len(out) > 0 {
			c.blanks()
			if !(c.word(",") || c.word("and") || c.word("or") || c.word("to") || c.word("et") || c.word("ou") ||
				c.word("à") || c.word("-") || c.word("–")) {
				c.i = save
				return out
			}
			c.blanks()
			c.word("and") // ", and"
			c.word("et")
			c.blanks()
		} else {
			c.blanks()
		}
		var n refNum
		var ok bool
		if k == Subparagraph {
			n, ok = c.label()
		} else {
			n, ok = c.number()
		}
		if !ok {
			c.i = save
			return out
		}
		out = append(out, n)
	}
}

// number reads digits and an optional suffix ("17", "17 bis").
func (c *cursor) number() (refNum, bool) {
	from := c.i
	for c.i < len(c.s) && c.s[c.i] >= '0' && c.s[c.i] <= '9' {
		c.i++
	}
	if c.i == from {
		return refNum{}, false
	}
	if c.i < len(c.s) && unicode.IsLetter(firstRune(c.s[c.i:])) && !startsWithSuffix(c.s[c.i:]) {
		c.i = from
		return refNum{}, false
	}
	num, rest := readSuffix(c.s[from:c.i], c.s[c.i:])
	c.i = len(c.s) - len(rest)
	return refNum{num: num, from: from, to: c.i}, true
}

// label reads "(b)", "(b bis)" or "b)"; from/to cover the label only.
func (c *cursor) label() (refNum, bool) {
	save := c.i
	open := c.i < len(c.s) && c.s[c.i] == '('
	if open {
		c.i++
	}
	close := strings.IndexByte(c.s[c.i:min(len(c.s), c.i+12)], ')')
	if close <= 0 {
		c.i = save
		return refNum{}, false
	}
	label := c.s[c.i : c.i+close]
	base, suffix, _ := strings.Cut(label, " ")
	if len(base) != 1 || base[0] < 'a' || base[0] > 'z' || (suffix != "" && suffixRank(suffix) == 0) {
		c.i = save
		return refNum{}, false
	}
	n := refNum{num: label, from: c.i, to: c.i + close}
	c.i += close + 1
	return n, true
}

// cpConv converts increasing byte offsets of a text to code points.
type cpConv struct {
	s        string
	byteAt   int
	cpAt     int
	lastByte int
}

func newCPConv(s string) *cpConv { return &cpConv{s: s} }

// cp returns the code point index of byte offset b; offsets must not
// decrease by more than the last one asked (it restarts otherwise).
func (c *cpConv) cp(b int) int {
	if b < c.byteAt {
		c.byteAt, c.cpAt = 0, 0
	}
	c.cpAt += utf8.RuneCountInString(c.s[c.byteAt:b])
	c.byteAt = b
	return c.cpAt
}

// SameAs reports whether r changes the same numbers and references the
// same way as o, positions aside: a renumbering previewed at one revision
// may be committed at a later one when it is the same there.
func (r Renumbering) SameAs(o Renumbering) bool {
	if len(r.Numbers) != len(o.Numbers) || len(r.References) != len(o.References) {
		return false
	}
	for i := range r.Numbers {
		x, y := r.Numbers[i], o.Numbers[i]
		if x.Kind != y.Kind || x.From != y.From || x.To != y.To {
			return false
		}
	}
	for i := range r.References {
		x, y := r.References[i], o.References[i]
		if x.Text != y.Text || x.From != y.From || x.To != y.To {
			return false
		}
	}
	return true
}
