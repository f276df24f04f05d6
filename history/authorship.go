package history

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Authorship records, for every code point of a draft's current text, the
// revision that wrote it and who committed that revision. The initial text
// of a draft is revision 0 with author index 0, the zero dr.Author
// ("initial text"; the server may show the draft's creator instead).
//
// It is a B-tree of runs (a run is consecutive code points written by one
// revision), with code-point counts in every node, so Apply costs
// O(log n) per component whatever the length of the history, and Spans is
// one walk over the runs.
//
// The owner of a draft feeds it each op after the op is committed
// (persisted), so it never needs to be rolled back. An Authorship is not
// safe for concurrent use; Clone gives a copy another goroutine may read.
type Authorship struct {
	rev     int // the highest revision applied
	root    *node
	authors []dr.Author       // index 0 is the zero Author: initial text
	index   map[dr.Author]int // authors[index[a]] == a
}

// Span is a maximal run of code points [Start, End) of the text written by
// one revision. Spans returned together tile the text: the first starts at
// 0, each starts where the previous ended, the last ends at Len, and two
// neighbours never have the same Rev and author.
type Span struct {
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Rev        int    `json:"rev"`
	Delegation string `json:"delegation"`
	Name       string `json:"name"`
}

// Initial reports whether sp is the draft's initial text (revision 0) or
// text whose author is unknown: both are shown as the draft's creator's.
func (sp Span) Initial() bool { return sp.Rev == 0 || (sp.Delegation == "" && sp.Name == "") }

// Tree shape. A leaf holds at most maxRuns runs, an inner node at most
// maxChildren children; a node that falls under a quarter of that after a
// delete is merged with a neighbour when the two fit in one. Typing one
// character touches one leaf and a few inner nodes; with these sizes the
// ~100,000 runs of a long draft make a tree three or four levels deep.
const (
	maxRuns     = 64
	maxChildren = 32
	minRuns     = maxRuns / 4
	minChildren = maxChildren / 4
)

// run is n code points written by revision rev, committed by
// authors[author].
type run struct {
	n      int
	rev    int
	author int
}

func (r run) sameWriter(o run) bool { return r.rev == o.rev && r.author == o.author }

// node is a B-tree node. All leaves are at the same depth. length is the
// number of code points under the node; a non-root node never has length 0
// (empty nodes are removed by their parent).
type node struct {
	leaf     bool
	length   int
	runs     []run   // leaf only, in text order, each n > 0
	children []*node // inner only, in text order
}

// New returns the authorship of a draft created with a text of initialLen
// code points: all of it revision 0, author index 0.
func New(initialLen int) *Authorship {
	a := &Authorship{
		root:    &node{leaf: true},
		authors: []dr.Author{{}},
		index:   map[dr.Author]int{{}: 0},
	}
	if initialLen > 0 {
		a.root.runs = []run{{n: initialLen}}
		a.root.length = initialLen
	}
	return a
}

// Rev returns the highest revision applied (0 for a new Authorship). It is
// persisted with the state, so the server can check that the ops it
// replays after a snapshot follow it.
func (a *Authorship) Rev() int { return a.rev }

// Len returns the length of the text, in code points.
func (a *Authorship) Len() int { return a.root.length }

// Apply records op, committed as revision rev by author: inserted code
// points are attributed to (rev, author), deleted ones are forgotten. The
// op must have been made on the text this Authorship describes (trailing
// skips may be left out). A malformed op returns an error wrapping
// ErrBadOp, an op that walks past the end ErrOpPastEnd; in both cases
// nothing changes.
func (a *Authorship) Apply(op ot.Op, rev int, author dr.Author) error {
	// Check the whole op first so that a bad one changes nothing.
	walked := 0
	for i, c := range op {
		if err := checkComponent(c); err != nil {
			return fmt.Errorf("apply rev %d, component %d: %w", rev, i, err)
		}
		walked += c.Skip + c.Delete
	}
	if walked > a.Len() {
		return fmt.Errorf("apply rev %d: walks %d code points over a text of %d: %w", rev, walked, a.Len(), ErrOpPastEnd)
	}
	idx := a.authorIndex(author)
	a.rev = max(a.rev, rev)
	pos := 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			pos += c.Skip
		case c.Insert != "":
			n := utf8.RuneCountInString(c.Insert)
			a.insert(pos, run{n: n, rev: rev, author: idx})
			pos += n
		case c.Delete > 0:
			a.delete(pos, c.Delete)
		}
	}
	return nil
}

// ApplyOps applies committed ops, which must be the revisions following
// Rev in order (as storage's Ops returns them): the replay from a snapshot
// to the revision asked for. An op out of sequence returns an error
// wrapping ErrOutOfSequence; an op that does not fit, Apply's errors. Ops
// before the failing one stay applied.
func (a *Authorship) ApplyOps(ops []dr.Op) error {
	for i := range ops {
		op := &ops[i]
		if op.Rev != a.rev+1 {
			return fmt.Errorf("replay: op %d after revision %d: %w", op.Rev, a.rev, ErrOutOfSequence)
		}
		if err := a.Apply(op.Op, op.Rev, op.By); err != nil {
			return err
		}
	}
	return nil
}

// FromSnapshot returns the authorship of the text in snap, from its Meta
// section MetaSection. A snapshot at revision 0 without one is the initial
// text (New). ok is false when a later snapshot has none (Meta sections may
// be written only with some snapshots): the caller goes back to an older
// snapshot and replays from there. A section that does not decode, or does
// not describe snap (another revision or length), returns an error
// wrapping ErrCorrupt.
func FromSnapshot(snap dr.Snapshot) (a *Authorship, ok bool, err error) {
	n := utf8.RuneCountInString(snap.Text)
	data, found := snap.Meta[MetaSection]
	if !found {
		if snap.Rev == 0 {
			return New(n), true, nil
		}
		return nil, false, nil
	}
	a, err = Unmarshal(data)
	if err != nil {
		return nil, false, fmt.Errorf("snapshot %d: %w", snap.Rev, err)
	}
	if a.Len() != n || a.Rev() != snap.Rev {
		return nil, false, fmt.Errorf("snapshot %d of %d code points holds the authorship of revision %d, %d code points: %w",
			snap.Rev, n, a.Rev(), a.Len(), ErrCorrupt)
	}
	return a, true, nil
}

// checkComponent reports whether c is exactly one of skip, insert, delete.
func checkComponent(c ot.Component) error {
	set := 0
	if c.Skip != 0 {
		set++
	}
	if c.Insert != "" {
		set++
	}
	if c.Delete != 0 {
		set++
	}
	switch {
	case set != 1:
		return fmt.Errorf("%d of skip, insert, delete set: %w", set, ErrBadOp)
	case c.Skip < 0 || c.Delete < 0:
		return fmt.Errorf("negative count: %w", ErrBadOp)
	case c.Deleted != "" && c.Delete == 0:
		return fmt.Errorf("deleted text without a delete: %w", ErrBadOp)
	}
	return nil
}

func (a *Authorship) authorIndex(author dr.Author) int {
	if i, ok := a.index[author]; ok {
		return i
	}
	a.authors = append(a.authors, author)
	a.index[author] = len(a.authors) - 1
	return len(a.authors) - 1
}

// Spans returns the text's authorship as spans that tile it (see Span). A
// text of length 0 has no spans.
func (a *Authorship) Spans() []Span { return a.spans(true) }

// AuthorSpans is Spans with neighbours merged by author alone, whatever
// revisions wrote them; a span's Rev is the latest of them. It is what a
// reader asks ("which delegation wrote which words"): a draft typed key
// by key has a span per keystroke in Spans (104,852 for automerge-paper)
// and a span per change of author here.
func (a *Authorship) AuthorSpans() []Span { return a.spans(false) }

func (a *Authorship) spans(byRev bool) []Span {
	// One exact allocation when every run may be a span (~100,000 for a
	// long draft): growing the slice by doubling costs more than the walk.
	size := 64
	if byRev {
		size = a.root.countRuns()
	}
	spans := make([]Span, 0, size)
	lastAuthor := -1
	pos := 0
	for leaf := range a.root.leaves {
		for _, r := range leaf.runs {
			if k := len(spans) - 1; k >= 0 && lastAuthor == r.author && (!byRev || spans[k].Rev == r.rev) {
				spans[k].End += r.n
				spans[k].Rev = max(spans[k].Rev, r.rev)
			} else {
				who := a.authors[r.author]
				spans = append(spans, Span{Start: pos, End: pos + r.n, Rev: r.rev, Delegation: who.Delegation, Name: who.Name})
				lastAuthor = r.author
			}
			pos += r.n
		}
	}
	return spans
}

// Clone returns an independent copy of a.
func (a *Authorship) Clone() *Authorship {
	c := &Authorship{
		rev:     a.rev,
		root:    a.root.clone(),
		authors: slices.Clone(a.authors),
		index:   make(map[dr.Author]int, len(a.index)),
	}
	for k, v := range a.index {
		c.index[k] = v
	}
	return c
}

func (n *node) clone() *node {
	c := &node{leaf: n.leaf, length: n.length}
	if n.leaf {
		c.runs = slices.Clone(n.runs)
		return c
	}
	c.children = make([]*node, len(n.children))
	for i, ch := range n.children {
		c.children[i] = ch.clone()
	}
	return c
}

// leaves yields the leaves under n in text order.
func (n *node) leaves(yield func(*node) bool) {
	n.walkLeaves(yield)
}

func (n *node) walkLeaves(yield func(*node) bool) bool {
	if n.leaf {
		return yield(n)
	}
	for _, c := range n.children {
		if !c.walkLeaves(yield) {
			return false
		}
	}
	return true
}

// countRuns returns the number of runs under n.
func (n *node) countRuns() int {
	if n.leaf {
		return len(n.runs)
	}
	total := 0
	for _, c := range n.children {
		total += c.countRuns()
	}
	return total
}

// insert adds r at code point pos (0 <= pos <= Len).
func (a *Authorship) insert(pos int, r run) {
	if right := a.root.insert(pos, r); right != nil {
		a.root = &node{length: a.root.length + right.length, children: []*node{a.root, right}}
	}
}

// insert adds r at pos under n. If n overflows it splits, keeps the left
// half and returns the right half for the parent to adopt.
func (n *node) insert(pos int, r run) *node {
	n.length += r.n
	if n.leaf {
		n.insertRun(pos, r)
		if len(n.runs) > maxRuns {
			return n.split()
		}
		return nil
	}
	// At a boundary between two children prefer the left one: typing at
	// the end of a run then extends that run.
	i := 0
	for ; i < len(n.children)-1 && pos > n.children[i].length; i++ {
		pos -= n.children[i].length
	}
	if right := n.children[i].insert(pos, r); right != nil {
		n.children = slices.Insert(n.children, i+1, right)
		if len(n.children) > maxChildren {
			return n.split()
		}
	}
	return nil
}

func (n *node) insertRun(pos int, r run) {
	if len(n.runs) == 0 {
		n.runs = append(n.runs, r)
		return
	}
	i := 0
	for ; i < len(n.runs)-1 && pos > n.runs[i].n; i++ {
		pos -= n.runs[i].n
	}
	cur := n.runs[i]
	switch {
	case cur.sameWriter(r):
		n.runs[i].n += r.n
	case pos == 0: // only at the start of the leaf
		n.runs = slices.Insert(n.runs, 0, r)
	case pos == cur.n:
		if i+1 < len(n.runs) && n.runs[i+1].sameWriter(r) {
			n.runs[i+1].n += r.n
		} else {
			n.runs = slices.Insert(n.runs, i+1, r)
		}
	default: // inside another writer's run: split it around r
		n.runs[i].n = pos
		n.runs = slices.Insert(n.runs, i+1, r, run{n: cur.n - pos, rev: cur.rev, author: cur.author})
	}
}

// split moves the right half of n's entries into a new node and returns it.
func (n *node) split() *node {
	right := &node{leaf: n.leaf}
	if n.leaf {
		mid := len(n.runs) / 2
		right.runs = slices.Clone(n.runs[mid:])
		n.runs = n.runs[:mid]
		for _, r := range right.runs {
			right.length += r.n
		}
	} else {
		mid := len(n.children) / 2
		right.children = slices.Clone(n.children[mid:])
		clear(n.children[mid:])
		n.children = n.children[:mid]
		for _, c := range right.children {
			right.length += c.length
		}
	}
	n.length -= right.length
	return right
}

// delete removes code points [pos, pos+count) (pos+count <= Len).
func (a *Authorship) delete(pos, count int) {
	a.root.delete(pos, count)
	for !a.root.leaf && len(a.root.children) == 1 {
		a.root = a.root.children[0]
	}
	if !a.root.leaf && len(a.root.children) == 0 {
		a.root = &node{leaf: true}
	}
}

func (n *node) delete(pos, count int) {
	n.length -= count
	if n.leaf {
		n.deleteRuns(pos, count)
		return
	}
	i := 0
	for pos >= n.children[i].length {
		pos -= n.children[i].length
		i++
	}
	first := i
	for count > 0 {
		c := n.children[i]
		take := min(count, c.length-pos)
		if pos == 0 && take == c.length {
			c.length = 0 // wholly deleted: dropped below without a walk
		} else {
			c.delete(pos, take)
		}
		count -= take
		pos = 0
		i++
	}
	// Drop emptied children among first..i-1; at most the first and the
	// last of them survive, now neighbours.
	kept := first
	for k := first; k < i; k++ {
		if n.children[k].length > 0 {
			n.children[kept] = n.children[k]
			kept++
		}
	}
	n.children = slices.Delete(n.children, kept, i)
	n.rebalance(first-1, kept)
}

// rebalance merges underfull children in [from, to] with a neighbour when
// the two fit in one node, so that long deletes do not leave a tree of
// near-empty nodes.
func (n *node) rebalance(from, to int) {
	for k := max(from, 0); k <= to && k < len(n.children); k++ {
		if !n.children[k].underfull() {
			continue
		}
		switch {
		case k+1 < len(n.children) && fits(n.children[k], n.children[k+1]):
			n.merge(k)
		case k > 0 && fits(n.children[k-1], n.children[k]):
			n.merge(k - 1)
		}
	}
}

func (n *node) underfull() bool {
	if n.leaf {
		return len(n.runs) < minRuns
	}
	return len(n.children) < minChildren
}

func fits(a, b *node) bool {
	if a.leaf {
		return len(a.runs)+len(b.runs) <= maxRuns
	}
	return len(a.children)+len(b.children) <= maxChildren
}

// merge moves the entries of child k+1 into child k and removes k+1.
func (n *node) merge(k int) {
	a, b := n.children[k], n.children[k+1]
	if a.leaf {
		if len(a.runs) > 0 && len(b.runs) > 0 && a.runs[len(a.runs)-1].sameWriter(b.runs[0]) {
			a.runs[len(a.runs)-1].n += b.runs[0].n
			a.runs = append(a.runs, b.runs[1:]...)
		} else {
			a.runs = append(a.runs, b.runs...)
		}
	} else {
		a.children = append(a.children, b.children...)
	}
	a.length += b.length
	n.children = slices.Delete(n.children, k+1, k+2)
}

func (n *node) deleteRuns(pos, count int) {
	i := 0
	for pos >= n.runs[i].n {
		pos -= n.runs[i].n
		i++
	}
	keep, k := i, i // runs [keep, k) are removed
	if pos > 0 {
		take := min(count, n.runs[i].n-pos)
		n.runs[i].n -= take
		count -= take
		keep, k = i+1, i+1
	}
	for count > 0 && count >= n.runs[k].n {
		count -= n.runs[k].n
		k++
	}
	if count > 0 {
		n.runs[k].n -= count
	}
	n.runs = slices.Delete(n.runs, keep, k)
	// The text on both sides of the deletion may be one writer's.
	if keep > 0 && keep < len(n.runs) && n.runs[keep-1].sameWriter(n.runs[keep]) {
		n.runs[keep-1].n += n.runs[keep].n
		n.runs = slices.Delete(n.runs, keep, keep+1)
	}
}
