package history

import (
	"html"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Segment ops.
const (
	OpEqual  = "equal"
	OpInsert = "insert"
	OpDelete = "delete"
)

// Segment is one piece of a diff from text a to text b. From and To are
// code-point offsets: in a for OpEqual and OpDelete segments, in b for
// OpInsert segments. Reading the segments in order, the equal and delete
// texts concatenate to a and the equal and insert texts to b.
//
// Rev, Delegation and Name are set only by Attribute, on insert segments:
// who wrote that text.
type Segment struct {
	Op         string `json:"op"`
	Text       string `json:"text"`
	From       int    `json:"from"`
	To         int    `json:"to"`
	Rev        int    `json:"rev,omitempty"`
	Delegation string `json:"delegation,omitempty"`
	Name       string `json:"name,omitempty"`
}

// DefaultDiffTimeout bounds the time Diff spends looking for a minimal
// diff. When it runs out, the parts not yet compared are reported as one
// delete and one insert: still a correct diff, only coarser. Two
// revisions 50,000 edits apart in a 100,000 code point draft take 7 to 20
// ms of CPU on the team's machine, well below it.
const DefaultDiffTimeout = 250 * time.Millisecond

// Diff returns the diff from a to b (see Segment), within
// DefaultDiffTimeout.
func Diff(a, b string) []Segment { return DiffWithin(a, b, DefaultDiffTimeout) }

// DiffWithin returns the diff from a to b, spending at most about timeout
// on it (see DefaultDiffTimeout); timeout <= 0 means no limit. a and b are
// valid UTF-8, as drafts always are (an invalid byte would come back as
// U+FFFD).
//
// The diff reads like a human edit: it is computed line by line, changed
// lines are compared word by word (a word changed in part is replaced as a
// whole), and short equalities stranded between larger changes are folded
// into them (the semantic cleanup of diff-match-patch). go-diff does the
// sequence comparison (Myers) on tokens mapped to runes; the rest is done
// here on code points: go-diff's line mode re-diffs whole blocks character
// by character (slow on large texts, and not word-shaped), and its
// DiffCleanupSemanticLossless slices strings at a rune count taken as a
// byte offset (DiffCommonSuffix), which can cut a multi-byte character.
func DiffWithin(a, b string, timeout time.Duration) []Segment {
	d := differ{a: []rune(a), b: []rune(b)}
	if timeout > 0 {
		d.deadline = time.Now().Add(timeout)
	}
	pieces := d.lines()
	pieces = cleanupSemantic(pieces)
	pieces = d.alignEdits(pieces)
	return d.segments(pieces)
}

// piece is a run of n code points of one op: equal consumes n from both
// texts, delete n from a, insert n from b.
type piece struct {
	op string
	n  int
}

type differ struct {
	a, b     []rune
	deadline time.Time    // zero: none
	counts   []tokenCount // scratch for uniqueCommon, indexed by token; all zero between calls
}

// tokenizer numbers distinct tokens. Tokens are hashed from their code
// points, not converted to strings: a diff of two long texts has tens of
// thousands of tokens, and a string per token was a third of its time.
type tokenizer struct {
	heads map[uint64]int32 // hash -> the latest token with that hash
	refs  []tokenRef       // token number -> where it first occurred
	hash  func([]rune) uint64
}

// fnv1a hashes code points (FNV-1a, 64 bits, one step per code point).
func fnv1a(tok []rune) uint64 {
	h := uint64(14695981039346656037)
	for _, r := range tok {
		h = (h ^ uint64(r)) * 1099511628211
	}
	return h
}

type tokenRef struct {
	text []rune
	next int32 // the previous token with the same hash, -1 none
}

func (tk *tokenizer) encode(text []rune, lens []int) []int32 {
	if tk.heads == nil {
		tk.heads = make(map[uint64]int32, len(lens))
	}
	if tk.hash == nil {
		tk.hash = fnv1a
	}
	out := make([]int32, len(lens))
	pos := 0
	for i, n := range lens {
		tok := text[pos : pos+n]
		pos += n
		h := tk.hash(tok)
		id, ok := tk.heads[h]
		if !ok {
			id = -1
		}
		for id >= 0 && !slices.Equal(tk.refs[id].text, tok) {
			id = tk.refs[id].next // a hash collision: keep looking
		}
		if id < 0 {
			next := int32(-1)
			if ok {
				next = tk.heads[h]
			}
			id = int32(len(tk.refs))
			tk.refs = append(tk.refs, tokenRef{text: tok, next: next})
			tk.heads[h] = id
		}
		out[i] = id
	}
	return out
}

// tokenCount is uniqueCommon's tally of one token.
// j is where the token last occurred in b.
type tokenCount struct{ na, nb, j int32 }

// lines diffs a and b line by line, then word by word inside each changed
// block of lines.
func (d *differ) lines() []piece {
	na, nb := len(d.a), len(d.b)
	// Trim the common prefix and suffix to line boundaries: cheap, and it
	// leaves the token diff only the region that changed.
	pre := 0
	for pre < na && pre < nb && d.a[pre] == d.b[pre] {
		pre++
	}
	if pre == na && pre == nb {
		return appendPiece(nil, OpEqual, pre)
	}
	for pre > 0 && d.a[pre-1] != '\n' {
		pre--
	}
	suf := 0
	for suf < na-pre && suf < nb-pre && d.a[na-1-suf] == d.b[nb-1-suf] {
		suf++
	}
	// Back off to a line start in both texts. Only the first step can see
	// two different code points; after it both lie in the common suffix.
	for suf > 0 && (na-suf > pre && d.a[na-suf-1] != '\n' || nb-suf > pre && d.b[nb-suf-1] != '\n') {
		suf--
	}
	var out []piece
	out = appendPiece(out, OpEqual, pre)
	// Blank lines and lines like "}" match all over a text, so the line
	// diff can pair a changed paragraph with the wrong one; folding such
	// short equalities between changed lines (the semantic cleanup, on
	// lines) hands the whole region to the word diff, which anchors on
	// the paragraphs' own words.
	mid := cleanupSemantic(d.tokens(pre, na-suf, pre, nb-suf, splitLines))
	// Compare each replaced block of lines word by word.
	ia, ib := pre, pre
	for i := 0; i < len(mid); {
		p := mid[i]
		if p.op == OpEqual {
			out = appendPiece(out, OpEqual, p.n)
			ia += p.n
			ib += p.n
			i++
			continue
		}
		del, ins := 0, 0
		for ; i < len(mid) && mid[i].op != OpEqual; i++ {
			if mid[i].op == OpDelete {
				del += mid[i].n
			} else {
				ins += mid[i].n
			}
		}
		if del > 0 && ins > 0 {
			out = appendPieces(out, d.tokens(ia, ia+del, ib, ib+ins, splitWords))
		} else {
			out = appendPiece(out, OpDelete, del)
			out = appendPiece(out, OpInsert, ins)
		}
		ia += del
		ib += ins
	}
	return appendPiece(out, OpEqual, suf)
}

// tokens diffs a[as:ae] against b[bs:be] as sequences of the tokens split
// returns, and returns the result in code points.
func (d *differ) tokens(as, ae, bs, be int, split func([]rune) []int) []piece {
	if as == ae || bs == be {
		return appendPiece(appendPiece(nil, OpDelete, ae-as), OpInsert, be-bs)
	}
	ta, tb := d.a[as:ae], d.b[bs:be]
	lensA, lensB := split(ta), split(tb)
	var tk tokenizer
	ia, ib := tk.encode(ta, lensA), tk.encode(tb, lensB)
	if len(tk.refs) > maxTokens {
		return []piece{{OpDelete, ae - as}, {OpInsert, be - bs}}
	}
	d.counts = make([]tokenCount, len(tk.refs))
	var out []piece
	ka, kb := 0, 0 // next token of each side
	for _, p := range d.sequence(ia, ib, 0) {
		n := 0
		switch p.op {
		case OpEqual:
			for _, l := range lensA[ka : ka+p.n] {
				n += l
			}
			ka += p.n
			kb += p.n
		case OpDelete:
			for _, l := range lensA[ka : ka+p.n] {
				n += l
			}
			ka += p.n
		case OpInsert:
			for _, l := range lensB[kb : kb+p.n] {
				n += l
			}
			kb += p.n
		}
		out = appendPiece(out, p.op, n)
	}
	return out
}

// maxAnchorDepth bounds the recursion of sequence into the gaps between
// anchors; below it the gaps go to go-diff as they are.
const maxAnchorDepth = 4

// sequence diffs two token sequences; the pieces it returns count tokens.
//
// It anchors on tokens that occur exactly once in each sequence (patience
// diff: a longest increasing run of such matches), and compares only the
// gaps between anchors with go-diff's Myers diff. go-diff alone on ~1,000
// lines 50,000 edits apart spends tens of milliseconds in its bisection;
// the gaps between unique lines are small. Anchoring on unique lines and
// words also keeps a moved paragraph or a common word such as "the" from
// pairing up unrelated text.
func (d *differ) sequence(a, b []int32, depth int) []piece {
	var out []piece
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out = appendPiece(out, OpEqual, pre)
	a, b = a[pre:len(a)-suf], b[pre:len(b)-suf]
	switch {
	case len(a) == 0 || len(b) == 0:
		out = appendPiece(out, OpDelete, len(a))
		out = appendPiece(out, OpInsert, len(b))
	default:
		anchors := uniqueCommon(a, b, d.counts)
		if len(anchors) == 0 || depth >= maxAnchorDepth {
			out = appendPieces(out, d.myers(a, b))
			break
		}
		i, j := 0, 0
		for _, an := range anchors {
			out = appendPieces(out, d.sequence(a[i:an[0]], b[j:an[1]], depth+1))
			out = appendPiece(out, OpEqual, 1)
			i, j = an[0]+1, an[1]+1
		}
		out = appendPieces(out, d.sequence(a[i:], b[j:], depth+1))
	}
	return appendPiece(out, OpEqual, suf)
}

// uniqueCommon returns the pairs (i, j) with a[i] == b[j] where that token
// occurs once in a and once in b, reduced to a longest chain increasing in
// both i and j. counts is scratch indexed by token, all zero on entry; it
// is left all zero, so that one allocation serves every call of a diff.
func uniqueCommon(a, b []int32, counts []tokenCount) [][2]int {
	for _, t := range a {
		counts[t].na++
	}
	for j, t := range b {
		counts[t].nb++
		counts[t].j = int32(j)
	}
	// Candidates in order of i; b positions must then increase (LIS).
	var js []int
	var is []int
	for i, t := range a {
		if c := counts[t]; c.na == 1 && c.nb == 1 {
			is = append(is, i)
			js = append(js, int(c.j))
		}
	}
	// Leave the scratch all zero for the next call.
	for _, t := range a {
		counts[t] = tokenCount{}
	}
	for _, t := range b {
		counts[t] = tokenCount{}
	}
	if len(js) == 0 {
		return nil
	}
	// Patience sorting: tails[k] is the index (into js) of the smallest
	// tail of an increasing run of length k+1; prev links the runs.
	tails := make([]int, 0, 16)
	prev := make([]int, len(js))
	for x, j := range js {
		k := sort.Search(len(tails), func(k int) bool { return js[tails[k]] >= j })
		if k > 0 {
			prev[x] = tails[k-1]
		} else {
			prev[x] = -1
		}
		if k == len(tails) {
			tails = append(tails, x)
		} else {
			tails[k] = x
		}
	}
	chain := make([][2]int, len(tails))
	for x, k := tails[len(tails)-1], len(tails)-1; k >= 0; x, k = prev[x], k-1 {
		chain[k] = [2]int{is[x], js[x]}
	}
	return chain
}

// myers diffs two token sequences with go-diff, within the deadline; when
// it has run out, they are one delete and one insert.
func (d *differ) myers(a, b []int32) []piece {
	remaining := time.Duration(0)
	if !d.deadline.IsZero() {
		if remaining = time.Until(d.deadline); remaining <= 0 {
			return []piece{{OpDelete, len(a)}, {OpInsert, len(b)}}
		}
	}
	// Myers costs about (N+M)·D, and D is at least the difference in
	// length: a gap of 400 tokens against 5,600 (a paragraph replaced by a
	// page) costs tens of milliseconds, and the few tokens it would find
	// in common ("the", ",") are folded back by the semantic cleanup
	// anyway. Such a gap is shown as replaced outright.
	if n, d := len(a)+len(b), len(a)-len(b); d != 0 && n*max(d, -d) > maxLopsidedCost {
		return []piece{{OpDelete, len(a)}, {OpInsert, len(b)}}
	}
	ra, rb := make([]rune, len(a)), make([]rune, len(b))
	for i, t := range a {
		ra[i] = tokenRune(int(t))
	}
	for i, t := range b {
		rb[i] = tokenRune(int(t))
	}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = remaining // 0: no limit
	var out []piece
	for _, df := range dmp.DiffMainRunes(ra, rb, false) {
		k := utf8.RuneCountInString(df.Text)
		switch df.Type {
		case diffmatchpatch.DiffEqual:
			out = appendPiece(out, OpEqual, k)
		case diffmatchpatch.DiffDelete:
			out = appendPiece(out, OpDelete, k)
		case diffmatchpatch.DiffInsert:
			out = appendPiece(out, OpInsert, k)
		}
	}
	return out
}

// maxLopsidedCost bounds (N+M)·|N-M| for a gap given to Myers: about 4 ms
// of work on this machine.
const maxLopsidedCost = 4 << 20

// maxTokens is the number of distinct tokens tokenRune can encode.
const maxTokens = unicode.MaxRune + 1 - 0x800

// tokenRune maps a token number to a rune that survives go-diff's
// conversions between []rune and string: surrogates are skipped, because
// they would all become U+FFFD and distinct tokens would compare equal.
func tokenRune(i int) rune {
	if i >= 0xD800 {
		i += 0x800
	}
	return rune(i)
}

// splitLines returns the lengths of text's lines, each with its '\n'.
func splitLines(text []rune) []int {
	var lens []int
	start := 0
	for i, r := range text {
		if r == '\n' {
			lens = append(lens, i+1-start)
			start = i + 1
		}
	}
	if start < len(text) {
		lens = append(lens, len(text)-start)
	}
	return lens
}

// splitWords returns the lengths of text's tokens for a word diff: a run
// of letters, digits and marks is one token, a run of spaces is one, and
// every other code point (punctuation, a line break, an emoji, a Han or
// kana character, which are written without spaces) is a token alone.
func splitWords(text []rune) []int {
	var lens []int
	for i := 0; i < len(text); {
		c := wordClass(text[i])
		j := i + 1
		if c == classWord || c == classSpace {
			for j < len(text) && wordClass(text[j]) == c {
				j++
			}
		}
		lens = append(lens, j-i)
		i = j
	}
	return lens
}

const (
	classWord = iota
	classSpace
	classOther
)

func wordClass(r rune) int {
	if r < utf8.RuneSelf { // most of a draft; unicode tables are slow
		switch {
		case r == '\n' || r == '\r':
			return classOther
		case r == ' ' || r == '\t' || r == '\v' || r == '\f':
			return classSpace
		case 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_':
			return classWord
		}
		return classOther
	}
	switch {
	case r == '\n' || r == '\r':
		return classOther
	case unicode.IsSpace(r):
		return classSpace
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai):
		return classOther
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_':
		return classWord
	}
	return classOther
}

func appendPiece(out []piece, op string, n int) []piece {
	if n <= 0 {
		return out
	}
	if k := len(out) - 1; k >= 0 && out[k].op == op {
		out[k].n += n
		return out
	}
	return append(out, piece{op, n})
}

func appendPieces(out []piece, ps []piece) []piece {
	for _, p := range ps {
		out = appendPiece(out, p.op, p.n)
	}
	return out
}

// normalize merges each run of edits between two equalities into one
// delete followed by one insert, and neighbouring equalities into one.
// Reordering is safe: deletes consume a and inserts b, independently.
func normalize(ps []piece) []piece {
	var out []piece
	for i := 0; i < len(ps); {
		if ps[i].op == OpEqual {
			out = appendPiece(out, OpEqual, ps[i].n)
			i++
			continue
		}
		del, ins := 0, 0
		for ; i < len(ps) && ps[i].op != OpEqual; i++ {
			switch ps[i].op {
			case OpDelete:
				del += ps[i].n
			case OpInsert:
				ins += ps[i].n
			case opFold:
				del += ps[i].n
				ins += ps[i].n
			}
		}
		out = appendPiece(out, OpDelete, del)
		out = appendPiece(out, OpInsert, ins)
	}
	return out
}

// opFold marks, inside cleanupSemantic, an equality folded into the
// changes around it: n code points deleted and the same n inserted.
const opFold = "fold"

// maxCleanupPasses bounds cleanupSemantic. A pass folds left to right, so
// an equality that becomes foldable only because one to its right folded
// waits for the next pass; real diffs settle in two or three.
const maxCleanupPasses = 16

// cleanupSemantic folds every equality that is no longer than the changes
// on each side of it into those changes (the semantic cleanup of
// diff-match-patch): in "[-the delegation-][+we+] of [-Canada-][+all
// Parties+]" the stranded " of " is shown as rewritten, which is how a
// person reads that edit.
func cleanupSemantic(ps []piece) []piece {
	ps = normalize(ps)
	for pass := 0; pass < maxCleanupPasses; pass++ {
		changed := false
		beforeDel, beforeIns := 0, 0 // edits since the last kept equality
		for i := range ps {
			p := ps[i]
			switch p.op {
			case OpDelete:
				beforeDel += p.n
			case OpInsert:
				beforeIns += p.n
			case OpEqual:
				if i > 0 && i < len(ps)-1 && p.n <= max(beforeDel, beforeIns) {
					afterDel, afterIns := 0, 0
					for j := i + 1; j < len(ps) && ps[j].op != OpEqual; j++ {
						if ps[j].op == OpDelete {
							afterDel += ps[j].n
						} else {
							afterIns += ps[j].n
						}
					}
					if p.n <= max(afterDel, afterIns) {
						ps[i].op = opFold
						beforeDel += p.n
						beforeIns += p.n
						changed = true
						continue
					}
				}
				beforeDel, beforeIns = 0, 0
			}
		}
		if !changed {
			break
		}
		ps = normalize(ps)
	}
	return ps
}

// alignEdits slides every lone insert or delete between two equalities to
// where its ends fall best for a reader (line breaks, then sentence ends,
// then spaces, then punctuation), as diff-match-patch's lossless semantic
// cleanup does: "\cite{Shapiro:[+2011un,Shapiro:+]2011wy}" becomes
// "\cite{[+Shapiro:2011un,+]Shapiro:2011wy}". Sliding keeps the diff exact:
// an edit moves one code point at a time only past a code point equal to
// the one it gives up at its other end.
func (d *differ) alignEdits(ps []piece) []piece {
	ia, ib := 0, 0
	for i := range ps {
		p := ps[i]
		lone := p.op != OpEqual && i > 0 && i < len(ps)-1 && ps[i-1].op == OpEqual && ps[i+1].op == OpEqual
		if lone && ps[i-1].n > 0 && ps[i+1].n > 0 {
			text, start := d.a, ia
			if p.op == OpInsert {
				text, start = d.b, ib
			}
			lo, hi := start-ps[i-1].n, start+p.n+ps[i+1].n
			// Slide fully left, then try every position rightwards.
			pos := start
			for pos > lo && text[pos-1] == text[pos-1+p.n] {
				pos--
			}
			best, bestScore := pos, -1
			for ; ; pos++ {
				if score := boundaryScore(text, pos, lo, hi) + boundaryScore(text, pos+p.n, lo, hi); score >= bestScore {
					best, bestScore = pos, score // >=: trailing spaces go with the edit
				}
				if pos+p.n >= hi || text[pos] != text[pos+p.n] {
					break
				}
			}
			delta := best - start
			ps[i-1].n += delta
			ps[i+1].n -= delta
			ia += delta
			ib += delta
		}
		switch p.op {
		case OpEqual:
			ia += ps[i].n
			ib += ps[i].n
		case OpDelete:
			ia += p.n
		case OpInsert:
			ib += p.n
		}
	}
	return normalize(ps) // drops equalities slid to nothing
}

// boundaryScore rates the boundary before text[p] inside text[lo:hi]: 6 at
// either end, 5 next to a blank line, 4 at a line break, 3 after the end
// of a sentence, 2 at a space, 1 next to punctuation, 0 inside a word.
func boundaryScore(text []rune, p, lo, hi int) int {
	if p <= lo || p >= hi {
		return 6
	}
	c1, c2 := text[p-1], text[p]
	alnum := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	space1, space2 := unicode.IsSpace(c1), unicode.IsSpace(c2)
	break1, break2 := c1 == '\n' || c1 == '\r', c2 == '\n' || c2 == '\r'
	switch {
	case break1 && p-2 >= lo && text[p-2] == '\n', break2 && p+1 < hi && text[p+1] == '\n':
		return 5
	case break1 || break2:
		return 4
	case !alnum(c1) && !space1 && space2:
		return 3
	case space1 || space2:
		return 2
	case !alnum(c1) || !alnum(c2):
		return 1
	}
	return 0
}

// segments turns pieces into Segments with their texts and offsets.
func (d *differ) segments(ps []piece) []Segment {
	segs := make([]Segment, 0, len(ps))
	ia, ib := 0, 0
	for _, p := range ps {
		switch p.op {
		case OpEqual:
			segs = append(segs, Segment{Op: OpEqual, Text: string(d.a[ia : ia+p.n]), From: ia, To: ia + p.n})
			ia += p.n
			ib += p.n
		case OpDelete:
			segs = append(segs, Segment{Op: OpDelete, Text: string(d.a[ia : ia+p.n]), From: ia, To: ia + p.n})
			ia += p.n
		case OpInsert:
			segs = append(segs, Segment{Op: OpInsert, Text: string(d.b[ib : ib+p.n]), From: ib, To: ib + p.n})
			ib += p.n
		}
	}
	return segs
}

// DiffHTML renders segments as HTML: equal text as is, inserted text in
// <ins>, deleted text in <del> (with a title naming the delegation and
// person when the segment is attributed), all of it HTML-escaped. Line breaks are
// kept as "\n"; show it in an element with white-space: pre-wrap.
func DiffHTML(segs []Segment) string {
	var sb strings.Builder
	for _, s := range segs {
		switch s.Op {
		case OpInsert:
			sb.WriteString("<ins")
			writeByAttr(&sb, s)
			sb.WriteString(">")
			sb.WriteString(html.EscapeString(s.Text))
			sb.WriteString("</ins>")
		case OpDelete:
			sb.WriteString("<del")
			writeByAttr(&sb, s)
			sb.WriteString(">")
			sb.WriteString(html.EscapeString(s.Text))
			sb.WriteString("</del>")
		default:
			sb.WriteString(html.EscapeString(s.Text))
		}
	}
	return sb.String()
}

// writeByAttr adds a title naming who wrote an attributed insert or
// removed an attributed delete.
func writeByAttr(sb *strings.Builder, s Segment) {
	if s.Delegation == "" && s.Name == "" {
		return
	}
	sb.WriteString(` title="`)
	sb.WriteString(html.EscapeString(strings.TrimSpace(s.Delegation + " " + s.Name)))
	sb.WriteString(`"`)
}

// Attribute splits the insert segments of a diff from a to b where the
// author of the text changes, and sets their Delegation and Name from
// spansB (Authorship.Spans of b) and Rev to the last revision that wrote
// part of the segment (a word typed key by key is one segment). Equal and
// delete segments are returned unchanged (AttributeDeletes does the
// deletes). spansB must tile b.
func Attribute(segs []Segment, spansB []Span) []Segment {
	out := make([]Segment, 0, len(segs))
	for _, s := range segs {
		runes := []rune(s.Text)
		if s.Op != OpInsert || s.From == s.To || len(runes) != s.To-s.From {
			out = append(out, s) // nothing to split, or not a segment of Diff
			continue
		}
		// The first span that ends after s.From.
		k := sort.Search(len(spansB), func(i int) bool { return spansB[i].End > s.From })
		first := len(out)
		pos := s.From
		for ; pos < s.To && k < len(spansB); k++ {
			sp := spansB[k]
			if sp.Start > pos { // spans that do not tile b: leave the gap unattributed
				sp = Span{Start: pos, End: sp.Start}
				k--
			}
			end := min(sp.End, s.To)
			if last := len(out) - 1; last >= first && out[last].Delegation == sp.Delegation && out[last].Name == sp.Name {
				out[last].To = end
				out[last].Rev = max(out[last].Rev, sp.Rev)
			} else {
				out = append(out, Segment{Op: OpInsert, From: pos, To: end, Rev: sp.Rev, Delegation: sp.Delegation, Name: sp.Name})
			}
			pos = end
		}
		if pos < s.To {
			out = append(out, Segment{Op: OpInsert, From: pos, To: s.To})
		}
		for i := first; i < len(out); i++ {
			out[i].Text = string(runes[out[i].From-s.From : out[i].To-s.From])
		}
	}
	return out
}
