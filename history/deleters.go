package history

import (
	"fmt"
	"sort"

	"github.com/draftroom/draftroom/dr"
)

// AttributeDeletes splits the delete segments of a diff from text a to a
// later text b where the person who deleted the text changes, and sets
// their Delegation and Name to that person's, and Rev to the last revision
// in which they deleted part of it (a word backspaced key by key is one
// segment). ops are the
// committed ops that took a to b, in order (a has lenA code points). Text
// the diff shows as deleted that no op deleted (a diff may pair text
// differently from how it was typed) keeps no attribution. Other segments
// are returned unchanged; Attribute does the inserts.
//
// It follows every code point of a through the ops in a tree like
// Authorship's, each code point of a a run of its own: O(log n) per
// component, about 10 ms for 50,000 ops over a 100,000 code point text.
// An op that does not fit returns Apply's errors.
func AttributeDeletes(segs []Segment, lenA int, ops []dr.Op) ([]Segment, error) {
	type deletion struct {
		pos int // in a
		op  *dr.Op
	}
	// Run i of the tree is code point i of a: rev carries the position,
	// so that no two neighbours merge and no run ever splits. Inserted
	// text is one run with rev -1.
	runs := make([]run, lenA)
	for i := range runs {
		runs[i] = run{n: 1, rev: i}
	}
	t := &Authorship{root: build(runs), authors: []dr.Author{{}}, index: map[dr.Author]int{{}: 0}}
	var dels []deletion
	for i := range ops {
		op := &ops[i]
		walked := 0
		for k, c := range op.Op {
			if err := checkComponent(c); err != nil {
				return nil, fmt.Errorf("attribute deletes, rev %d, component %d: %w", op.Rev, k, err)
			}
			walked += c.Skip + c.Delete
		}
		if walked > t.Len() {
			return nil, fmt.Errorf("attribute deletes, rev %d: walks %d code points over %d: %w", op.Rev, walked, t.Len(), ErrOpPastEnd)
		}
		pos := 0
		for _, c := range op.Op {
			switch {
			case c.Skip > 0:
				pos += c.Skip
			case c.Insert != "":
				n := len([]rune(c.Insert))
				t.insert(pos, run{n: n, rev: -1})
				pos += n
			case c.Delete > 0:
				t.root.visit(pos, c.Delete, func(r run) {
					if r.rev >= 0 {
						dels = append(dels, deletion{pos: r.rev, op: op})
					}
				})
				t.delete(pos, c.Delete)
			}
		}
	}
	sort.Slice(dels, func(i, j int) bool { return dels[i].pos < dels[j].pos })
	out := make([]Segment, 0, len(segs))
	for _, s := range segs {
		runes := []rune(s.Text)
		if s.Op != OpDelete || s.From == s.To || len(runes) != s.To-s.From {
			out = append(out, s) // nothing to split, or not a segment of Diff
			continue
		}
		who := make([]*dr.Op, len(runes)) // the deleter of each code point
		for k := sort.Search(len(dels), func(i int) bool { return dels[i].pos >= s.From }); k < len(dels) && dels[k].pos < s.To; k++ {
			who[dels[k].pos-s.From] = dels[k].op
		}
		for i := 0; i < len(runes); {
			j := i + 1
			for j < len(runes) && sameDeleter(who[i], who[j]) {
				j++
			}
			seg := Segment{Op: OpDelete, Text: string(runes[i:j]), From: s.From + i, To: s.From + j}
			if op := who[i]; op != nil {
				seg.Delegation, seg.Name = op.By.Delegation, op.By.Name
				for _, o := range who[i:j] {
					seg.Rev = max(seg.Rev, o.Rev)
				}
			}
			out = append(out, seg)
			i = j
		}
	}
	return out, nil
}

// sameDeleter reports whether two code points were deleted by the same
// person (nil: by nobody).
func sameDeleter(a, b *dr.Op) bool {
	return a == b || a != nil && b != nil && a.By == b.By
}

// visit calls f with every run that overlaps code points [pos, pos+count)
// under n, in text order.
func (n *node) visit(pos, count int, f func(run)) {
	if n.leaf {
		for _, r := range n.runs {
			if count <= 0 {
				return
			}
			if pos < r.n {
				f(r)
				count -= r.n - pos
				pos = 0
			} else {
				pos -= r.n
			}
		}
		return
	}
	for _, c := range n.children {
		if count <= 0 {
			return
		}
		if pos < c.length {
			c.visit(pos, min(count, c.length-pos), f)
			count -= c.length - pos
			pos = 0
		} else {
			pos -= c.length
		}
	}
}
