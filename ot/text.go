package ot

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Text is a draft's text held in a B-tree of chunks (a rope): leaves hold
// up to leafMax bytes of UTF-8, every node knows the code points below it,
// and all leaves are at the same depth. Finding a position, inserting and
// deleting cost O(log n) plus the size of one chunk; nothing copies the
// whole text except String.
//
// The zero Text is empty and ready to use. A Text is not safe for
// concurrent use: one goroutine owns it (the draft's owner goroutine).
type Text struct {
	root *node
}

// Chunk and fan-out bounds. Small leaves keep the memmove of an edit and the
// scan for a code point offset short; a fan-out of 16 keeps the tree shallow
// (three levels above the leaves for a 200,000-code-point draft). A node is
// merged with a neighbour when it drops below a quarter of its maximum, so
// a node split in half can lose a quarter before it is merged again.
const (
	leafMax = 512
	leafMin = leafMax / 4
	nodeMax = 16
	nodeMin = nodeMax / 4
)

type node struct {
	n        int     // code points below this node
	children []*node // nil for a leaf
	text     []byte  // a leaf's text: valid UTF-8, never split inside a code point
}

func (nd *node) leaf() bool { return nd.children == nil }

// size is what the bounds above measure: bytes for a leaf, children else.
func (nd *node) size() int {
	if nd.leaf() {
		return len(nd.text)
	}
	return len(nd.children)
}

// NewText returns a Text holding s. Invalid UTF-8 in s is replaced by
// U+FFFD (callers validate first; this keeps code point counts well defined).
func NewText(s string) *Text {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if s == "" {
		return &Text{}
	}
	return &Text{root: buildUp(leaves(s))}
}

// leaves chunks s into leaves of about three quarters of leafMax, so that
// typing into a fresh text does not split a leaf at once.
func leaves(s string) []*node {
	const target = leafMax * 3 / 4
	out := make([]*node, 0, len(s)/target+1)
	for len(s) > 0 {
		cut := len(s)
		if cut > leafMax {
			// Balance the pieces: ceil(len/target) leaves of equal size.
			k := (len(s) + target - 1) / target
			cut = runeStart(s, len(s)/k)
		}
		out = append(out, newLeaf(s[:cut]))
		s = s[cut:]
	}
	return out
}

// runeStart moves byte offset i back to the start of the code point it is in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

func newLeaf(s string) *node {
	text := make([]byte, len(s), max(leafMax, len(s)))
	copy(text, s)
	return &node{n: utf8.RuneCountInString(s), text: text}
}

// buildUp groups nodes of one level into parents until one node is left.
func buildUp(nodes []*node) *node {
	for len(nodes) > 1 {
		nodes = group(nodes)
	}
	return nodes[0]
}

// group returns parents for nodes, each with at most nodeMax children and
// the children shared out evenly.
func group(nodes []*node) []*node {
	k := (len(nodes) + nodeMax - 1) / nodeMax
	parents := make([]*node, 0, k)
	for i := 0; i < k; i++ {
		part := nodes[len(nodes)*i/k : len(nodes)*(i+1)/k]
		p := &node{children: make([]*node, len(part), nodeMax+1)}
		copy(p.children, part)
		for _, c := range part {
			p.n += c.n
		}
		parents = append(parents, p)
	}
	return parents
}

// Len returns the length of the text in code points.
func (t *Text) Len() int {
	if t.root == nil {
		return 0
	}
	return t.root.n
}

// String returns the whole text.
func (t *Text) String() string {
	return t.Slice(0, t.Len())
}

// Slice returns code points [from, to) of the text, with from and to
// clamped to [0, Len()]; empty when from >= to.
func (t *Text) Slice(from, to int) string {
	from, to = max(from, 0), min(to, t.Len())
	if from >= to {
		return ""
	}
	// Go down to the lowest node holding the whole range: a short slice
	// (the text of a small delete) lies in one leaf and is copied once, at
	// its exact size.
	nd := t.root
	for !nd.leaf() {
		i, before := 0, 0
		for from-before >= nd.children[i].n {
			before += nd.children[i].n
			i++
		}
		if to-before > nd.children[i].n {
			break
		}
		nd, from, to = nd.children[i], from-before, to-before
	}
	if nd.leaf() {
		i, j := byteRange(nd, from, to)
		return string(nd.text[i:j])
	}
	var b strings.Builder
	b.Grow(to - from)
	nd.appendTo(&b, from, to)
	return b.String()
}

// appendTo writes code points [from, to) of nd (relative to nd) to b.
func (nd *node) appendTo(b *strings.Builder, from, to int) {
	if nd.leaf() {
		i, j := byteRange(nd, from, to)
		b.Write(nd.text[i:j])
		return
	}
	for _, c := range nd.children {
		if from < c.n && to > 0 {
			c.appendTo(b, max(from, 0), min(to, c.n))
		}
		from -= c.n
		to -= c.n
		if to <= 0 {
			return
		}
	}
}

// matches reports whether the text at code point pos starts with s.
func (t *Text) matches(pos int, s string) bool {
	if t.root == nil {
		return s == ""
	}
	rest, ok := t.root.match(pos, s)
	return ok && rest == ""
}

// match compares nd's text from code point pos with the front of s; it
// returns what of s is left to compare after nd, and false on a difference.
func (nd *node) match(pos int, s string) (string, bool) {
	if nd.leaf() {
		text := nd.text[byteOffset(nd, pos):]
		if len(text) >= len(s) {
			return "", string(text[:len(s)]) == s
		}
		if string(text) != s[:len(text)] {
			return "", false
		}
		return s[len(text):], true
	}
	for _, c := range nd.children {
		if pos >= c.n {
			pos -= c.n
			continue
		}
		var ok bool
		if s, ok = c.match(pos, s); !ok || s == "" {
			return s, ok
		}
		pos = 0
	}
	return s, true
}

// byteOffset returns the byte offset of code point k in leaf nd.
func byteOffset(nd *node, k int) int {
	if len(nd.text) == nd.n || k == 0 {
		return k // all ASCII
	}
	if k >= nd.n {
		return len(nd.text)
	}
	if k > nd.n/2 {
		return lastRunes(nd.text, nd.n-k) // nearer the end: scan half as far
	}
	return skipRunes(nd.text, 0, k)
}

// byteRange returns the byte offsets of code points from and to (from <= to)
// in leaf nd; the second scan starts where the first ended.
func byteRange(nd *node, from, to int) (int, int) {
	if len(nd.text) == nd.n {
		return from, to // all ASCII
	}
	i := byteOffset(nd, from)
	if to >= nd.n {
		return i, len(nd.text)
	}
	return i, skipRunes(nd.text, i, to-from)
}

// Continuation bytes (10xxxxxx) are the only bytes of valid UTF-8 that do
// not start a code point; contMask picks bit 7 of each byte of a word.
const contMask = 0x8080808080808080

// lastRunes returns the byte offset of the r-th code point from the end of
// text (r >= 1; 0 if there are fewer), counting eight bytes at a time as
// skipRunes does.
func lastRunes(text []byte, r int) int {
	j := len(text)
	for j >= 8 {
		w := binary.LittleEndian.Uint64(text[j-8:])
		starts := 8 - bits.OnesCount64(w&^(w<<1)&contMask)
		if starts >= r {
			break // the code point starts in these eight bytes
		}
		r -= starts
		j -= 8
	}
	for j > 0 {
		j--
		if utf8.RuneStart(text[j]) {
			if r--; r == 0 {
				return j
			}
		}
	}
	return 0
}

// skipRunes returns the byte offset of the k-th code point after byte offset
// i (a code point start) in text, or len(text) if there are not that many.
// It counts code point starts eight bytes at a time: the leaf scan was the
// largest single cost of applying an op to multilingual text.
func skipRunes(text []byte, i, k int) int {
	for i+8 <= len(text) {
		w := binary.LittleEndian.Uint64(text[i:])
		// Bit 7 of a byte set and bit 6 clear: a continuation byte. The
		// shift moves each byte's bit 6 to its bit 7; the bit shifted out
		// of a byte's top lands in the next byte's bit 0, outside the mask.
		starts := 8 - bits.OnesCount64(w&^(w<<1)&contMask)
		if starts > k {
			break
		}
		k -= starts
		i += 8
	}
	// Fewer than eight bytes to go to the code point (or to the end); i may
	// be inside a code point whose start was counted.
	for ; i < len(text); i++ {
		if utf8.RuneStart(text[i]) {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return len(text)
}

// insert puts s (sn code points) at code point pos of t.
func (t *Text) insert(pos int, s string, sn int) {
	if t.root == nil {
		t.root = buildUp(leaves(s))
		return
	}
	if extra := t.root.insert(pos, s, sn); extra != nil {
		t.root = buildUp(append([]*node{t.root}, extra...))
	}
}

// insert puts s at pos (relative to nd) and returns the new right siblings
// nd split off, if it grew past its bound.
func (nd *node) insert(pos int, s string, sn int) []*node {
	if nd.leaf() {
		at := byteOffset(nd, pos) // before n changes: byteOffset reads it
		nd.n += sn
		if len(nd.text)+len(s) <= cap(nd.text) && len(nd.text)+len(s) <= leafMax {
			nd.text = nd.text[:len(nd.text)+len(s)]
			copy(nd.text[at+len(s):], nd.text[at:])
			copy(nd.text[at:], s)
			return nil
		}
		var b strings.Builder
		b.Grow(len(nd.text) + len(s))
		b.Write(nd.text[:at])
		b.WriteString(s)
		b.Write(nd.text[at:])
		parts := leaves(b.String())
		*nd = *parts[0]
		return parts[1:]
	}
	nd.n += sn
	// An insert at a boundary goes to the end of the left child: typing
	// appends to the leaf it is in.
	i := 0
	for i < len(nd.children)-1 && pos > nd.children[i].n {
		pos -= nd.children[i].n
		i++
	}
	extra := nd.children[i].insert(pos, s, sn)
	if extra == nil {
		return nil
	}
	kids := make([]*node, 0, len(nd.children)+len(extra))
	kids = append(kids, nd.children[:i+1]...)
	kids = append(kids, extra...)
	kids = append(kids, nd.children[i+1:]...)
	if len(kids) <= nodeMax {
		nd.children = kids
		return nil
	}
	parts := group(kids)
	*nd = *parts[0]
	return parts[1:]
}

// delete removes code points [pos, pos+count) of t.
func (t *Text) delete(pos, count int) {
	if count <= 0 {
		return
	}
	t.root.delete(pos, count)
	for !t.root.leaf() && len(t.root.children) == 1 {
		t.root = t.root.children[0]
	}
	if t.root.n == 0 {
		t.root = nil
	}
}

// delete removes [pos, pos+count) (relative to nd, within it), then merges
// children that fell below their bound with a neighbour.
func (nd *node) delete(pos, count int) {
	if nd.leaf() {
		from, to := byteRange(nd, pos, pos+count)
		nd.text = append(nd.text[:from], nd.text[to:]...)
		nd.n -= count
		return
	}
	nd.n -= count
	i := 0
	for count > 0 {
		c := nd.children[i]
		if pos >= c.n {
			pos -= c.n
			i++
			continue
		}
		k := min(count, c.n-pos)
		count -= k
		if pos == 0 && k == c.n {
			nd.children = append(nd.children[:i], nd.children[i+1:]...)
			continue
		}
		c.delete(pos, k)
		pos = 0
		i++
	}
	nd.rebalance()
}

// rebalance merges each child below its minimum size with a neighbour,
// sharing the two out evenly again if together they exceed the maximum.
func (nd *node) rebalance() {
	for i := 0; i < len(nd.children) && len(nd.children) > 1; {
		c := nd.children[i]
		least := nodeMin
		if c.leaf() {
			least = leafMin
		}
		if c.size() >= least {
			i++
			continue
		}
		j := i + 1 // merge c with its right neighbour, or the last with its left
		if j == len(nd.children) {
			i, j = i-1, i
		}
		a, b := nd.children[i], nd.children[j]
		if merged := mergeNodes(a, b); merged != nil {
			nd.children[i] = merged
			nd.children = append(nd.children[:j], nd.children[j+1:]...)
			// Two small children of a and b may now be neighbours; and the
			// merged node may still be small.
			merged.rebalance()
			continue
		}
		a, b = redistribute(a, b)
		a.rebalance()
		b.rebalance()
		nd.children[i], nd.children[j] = a, b
		i = j + 1
	}
}

// mergeNodes returns a and b (siblings at one level) as one node, or nil if
// that node would exceed its maximum size.
func mergeNodes(a, b *node) *node {
	if a.leaf() {
		if len(a.text)+len(b.text) > leafMax {
			return nil
		}
		a.text = append(a.text, b.text...)
		a.n += b.n
		return a
	}
	if len(a.children)+len(b.children) > nodeMax {
		return nil
	}
	a.children = append(a.children, b.children...)
	a.n += b.n
	return a
}

// redistribute shares the contents of siblings a and b out evenly.
func redistribute(a, b *node) (*node, *node) {
	if a.leaf() {
		all := string(a.text) + string(b.text)
		cut := runeStart(all, len(all)/2)
		return newLeaf(all[:cut]), newLeaf(all[cut:])
	}
	all := append(append(make([]*node, 0, len(a.children)+len(b.children)), a.children...), b.children...)
	parts := group(all)
	if len(parts) == 1 {
		// Cannot happen when a and b together exceed nodeMax; keep both
		// non-empty anyway.
		half := len(all) / 2
		parts = group(all[:half])
		parts = append(parts, group(all[half:])...)
	}
	return parts[0], parts[1]
}

// Apply applies op to the text and returns its inverse: the op that, applied
// next, restores the text (inserts become {"d":"s"} deletes, deletes become
// inserts of the text they removed; normal, as ot-text-unicode's
// invertWithDoc). It is atomic: the whole op is checked against the text
// first, and on error the text is unchanged. Errors wrap ErrMalformed,
// ErrInvalidUTF8, ErrSkipPastEnd, ErrDeletePastEnd or ErrDeleteMismatch.
func (t *Text) Apply(op Op) (inverse Op, err error) {
	if err := op.Check(); err != nil {
		return nil, err
	}
	n, pre := t.Len(), 0
	for i, c := range op {
		switch c.kind() {
		case kindSkip:
			if c.Skip > n-pre {
				return nil, fmt.Errorf("component %d: skip %d from %d: draft has %d code points: %w", i, c.Skip, pre, n, ErrSkipPastEnd)
			}
			pre += c.Skip
		case kindDelete:
			if c.Delete > n-pre {
				return nil, fmt.Errorf("component %d: delete %d at %d: draft has %d code points: %w", i, c.Delete, pre, n, ErrDeletePastEnd)
			}
			if c.Deleted != "" && !t.matches(pre, c.Deleted) {
				return nil, fmt.Errorf("component %d: delete of %s at %d finds %s: %w", i, short(c.Deleted), pre, short(t.Slice(pre, pre+min(c.Delete, 41))), ErrDeleteMismatch)
			}
			pre += c.Delete
		}
	}
	inv := appender{op: make(Op, 0, len(op))}
	pos := 0
	for _, c := range op {
		switch c.kind() {
		case kindSkip:
			pos += c.Skip
			inv.add(c)
		case kindInsert:
			cn := utf8.RuneCountInString(c.Insert)
			t.insert(pos, c.Insert, cn)
			pos += cn
			inv.add(Component{Delete: cn, Deleted: c.Insert})
		case kindDelete:
			deleted := c.Deleted
			if deleted == "" {
				deleted = t.Slice(pos, pos+c.Delete)
			}
			t.delete(pos, c.Delete)
			inv.add(Component{Insert: deleted})
		}
	}
	return inv.done(), nil
}
