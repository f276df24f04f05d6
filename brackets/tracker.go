package brackets

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/internal/charid"
	"github.com/draftroom/draftroom/ot"
)

// ID is the identity of one '[' character (charid.ID: the revision whose
// op inserted it and its index in that op's inserted text).
type ID charid.ID

// String returns the id in its wire form, b<rev>.<k>.
func (id ID) String() string { return string(id.appendTo(make([]byte, 0, 16))) }

func (id ID) appendTo(b []byte) []byte { return charid.Append(b, 'b', id.Rev, id.K) }

// ParseID reads the wire form b<rev>.<k> (decimal, no sign, no leading
// zeros). Errors wrap ErrBadID.
func ParseID(s string) (ID, error) {
	rev, k, ok := charid.Parse(s, 'b')
	if !ok {
		return ID{}, fmt.Errorf("group id %q: %w", s, ErrBadID)
	}
	return ID{Rev: rev, K: k}, nil
}

// Block sizes of the tracker. Brackets are kept in blocks of about
// blockMax/2 sorted positions, each block with a lazy offset, so an edit
// touches one or two blocks fully and only adds to the offsets of the later
// ones: O(log n + blockMax + n/blockMax) per edit for n brackets.
const (
	blockMax = 128
	blockMin = blockMax / 4
	// bulkEdits: an op with more edits than this (an imported diff) is
	// applied by rebuilding the whole list in one O(n) pass instead.
	bulkEdits = 24
)

type block struct {
	delta int   // added to every pos in the block
	pos   []int // ascending
	ids   []ID
}

// Tracker follows the position and identity of every '[' in a draft (escaped
// or not, matched or not: a character's identity does not depend on how it
// is read) through the committed ops. It is not safe for concurrent use; the
// draft's owner goroutine owns it.
//
// Apply the ops in revision order, after they commit: an op that is later
// rolled back must not reach the tracker, because re-inserting a bracket
// gives it a new identity (use Clone to work on a copy).
type Tracker struct {
	rev    int // revision of the text the tracker describes
	length int // its length in code points
	count  int // number of '[' tracked
	blocks []block
}

// NewTracker returns the tracker of a draft's initial text (revision 0):
// the '[' at position p has id b0.<p>.
func NewTracker(text string) *Tracker {
	var pos []int
	var ids []ID
	cp := 0
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '[')
		if j < 0 {
			cp += utf8.RuneCountInString(text[i:])
			break
		}
		cp += utf8.RuneCountInString(text[i : i+j])
		pos = append(pos, cp)
		ids = append(ids, ID{Rev: 0, K: cp})
		i += j + 1
		cp++
	}
	t := &Tracker{length: cp}
	t.rebuild(pos, ids)
	return t
}

// Rev returns the revision of the text the tracker describes.
func (t *Tracker) Rev() int { return t.rev }

// Len returns the length in code points of that text.
func (t *Tracker) Len() int { return t.length }

// Count returns the number of '[' characters tracked.
func (t *Tracker) Count() int { return t.count }

// Clone returns an independent copy.
func (t *Tracker) Clone() *Tracker {
	c := &Tracker{rev: t.rev, length: t.length, count: t.count, blocks: make([]block, len(t.blocks))}
	for i, b := range t.blocks {
		c.blocks[i] = block{delta: b.delta, pos: append([]int(nil), b.pos...), ids: append([]ID(nil), b.ids...)}
	}
	return c
}

// IDAt returns the identity of the '[' at code-point position pos, and
// false if there is none.
func (t *Tracker) IDAt(pos int) (ID, bool) {
	b, i := t.find(pos)
	if b == len(t.blocks) {
		return ID{}, false
	}
	bl := &t.blocks[b]
	if bl.pos[i]+bl.delta != pos {
		return ID{}, false
	}
	return bl.ids[i], true
}

// ID returns the wire form of the identity of the '[' at pos, or "" if
// there is no '[' at pos.
func (t *Tracker) ID(pos int) string {
	id, ok := t.IDAt(pos)
	if !ok {
		return ""
	}
	return id.String()
}

// Positions returns the positions of all tracked '[', ascending, and their
// identities.
func (t *Tracker) Positions() ([]int, []ID) {
	pos := make([]int, 0, t.count)
	ids := make([]ID, 0, t.count)
	for _, b := range t.blocks {
		for _, p := range b.pos {
			pos = append(pos, p+b.delta)
		}
		ids = append(ids, b.ids...)
	}
	return pos, ids
}

// Identify sets the ID of every group of res from its first '['. It fails
// with ErrOutOfSync (and leaves the ids it could not find empty) if res was
// not parsed from the text the tracker describes.
func (t *Tracker) Identify(res *Result) error {
	if res.Len != t.length {
		return fmt.Errorf("text has %d code points, tracker %d: %w", res.Len, t.length, ErrOutOfSync)
	}
	var missing error
	// All ids are written into one buffer and cut from one string: two
	// allocations for the listing instead of two per group.
	buf := make([]byte, 0, 12*len(res.Groups))
	ends := make([]int, len(res.Groups)) // end of each id in buf; -1: none
	b, i := 0, 0
	for gi := range res.Groups {
		g := &res.Groups[gi]
		// Groups are sorted by Start, so one forward walk suffices.
		for b < len(t.blocks) && t.blocks[b].pos[i]+t.blocks[b].delta < g.Start {
			if i++; i == len(t.blocks[b].pos) {
				b, i = b+1, 0
			}
		}
		if b < len(t.blocks) && t.blocks[b].pos[i]+t.blocks[b].delta == g.Start {
			buf = t.blocks[b].ids[i].appendTo(buf)
			ends[gi] = len(buf)
		} else {
			ends[gi] = -1
			if missing == nil {
				missing = fmt.Errorf("no tracked '[' at %d: %w", g.Start, ErrOutOfSync)
			}
		}
	}
	all, from := string(buf), 0
	for gi, end := range ends {
		if end >= 0 {
			res.Groups[gi].ID = all[from:end]
			from = end
		}
	}
	return missing
}

// List parses text and identifies its groups with t: the bracket listing
// of a draft. See Parse and Tracker.Identify.
func List(text string, t *Tracker) (Result, error) {
	res := Parse(text)
	return res, t.Identify(&res)
}

// Check reports (ErrOutOfSync) whether the tracker does not describe text:
// other length, or other positions of '['. It costs a pass over the text;
// use it after restoring a tracker from storage.
func (t *Tracker) Check(text string) error {
	u := NewTracker(text)
	if u.length != t.length || u.count != t.count {
		return fmt.Errorf("text has %d code points and %d '[', tracker %d and %d: %w",
			u.length, u.count, t.length, t.count, ErrOutOfSync)
	}
	want, _ := u.Positions()
	got, _ := t.Positions()
	for i := range want {
		if want[i] != got[i] {
			return fmt.Errorf("text has a '[' at %d, tracker at %d: %w", want[i], got[i], ErrOutOfSync)
		}
	}
	return nil
}

// Apply moves the tracked brackets through op, the op that took the text
// from revision rev-1 to rev (already committed), and gives every '[' the op
// inserts the id b<rev>.<k>. On error (ErrRevision if rev is not Rev()+1,
// ErrOp if op is malformed or walks past the end of the text) the tracker is
// unchanged.
func (t *Tracker) Apply(op ot.Op, rev int) error {
	if rev != t.rev+1 {
		return fmt.Errorf("op for revision %d on tracker at %d: %w", rev, t.rev, ErrRevision)
	}
	base, edits, inserted := 0, 0, 0
	for i, c := range op {
		walk := 0
		switch {
		case c.Skip > 0 && c.Insert == "" && c.Delete == 0 && c.Deleted == "":
			walk = c.Skip
		case c.Insert != "" && c.Skip == 0 && c.Delete == 0 && c.Deleted == "":
			inserted += utf8.RuneCountInString(c.Insert)
			edits++
		case c.Delete > 0 && c.Skip == 0 && c.Insert == "":
			walk = c.Delete
			edits++
		default:
			return fmt.Errorf("component %d of op %d: %w", i, rev, ErrOp)
		}
		// Compared before adding, so that no sum can overflow.
		if walk > t.length-base {
			return fmt.Errorf("op %d walks past the end of %d code points: %w", rev, t.length, ErrOp)
		}
		base += walk
	}
	if edits > bulkEdits {
		t.applyBulk(op, rev)
	} else {
		t.applyEdits(op, rev)
	}
	t.length += inserted - baseDeleted(op)
	t.rev = rev
	return nil
}

func baseDeleted(op ot.Op) int {
	n := 0
	for _, c := range op {
		n += c.Delete
	}
	return n
}

// applyEdits applies op edit by edit. cur is the position in the text as it
// stands after the components seen so far: the prefix is new text, the rest
// still old text shifted by the edits before.
func (t *Tracker) applyEdits(op ot.Op, rev int) {
	cur, k := 0, 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			cur += c.Skip
		case c.Insert != "":
			n := utf8.RuneCountInString(c.Insert)
			b, i := t.find(cur)
			t.shift(b, i, n)
			if strings.IndexByte(c.Insert, '[') >= 0 {
				var pos []int
				var ids []ID
				forEachOpen(c.Insert, func(off int) {
					pos = append(pos, cur+off)
					ids = append(ids, ID{Rev: rev, K: k + off})
				})
				t.insert(b, i, pos, ids)
			}
			cur += n
			k += n
		case c.Delete > 0:
			t.delete(cur, cur+c.Delete)
		}
	}
}

// forEachOpen calls f with the code-point offset of every '[' in s.
func forEachOpen(s string, f func(off int)) {
	cp := 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '[')
		if j < 0 {
			return
		}
		cp += utf8.RuneCountInString(s[i : i+j])
		f(cp)
		i += j + 1
		cp++
	}
}

// applyBulk rebuilds the list in one merge pass over op.
func (t *Tracker) applyBulk(op ot.Op, rev int) {
	oldPos, oldIDs := t.Positions()
	pos := make([]int, 0, len(oldPos))
	ids := make([]ID, 0, len(oldIDs))
	j := 0     // next old bracket
	oldAt := 0 // position in the old text
	newAt := 0 // position in the new text
	k := 0     // code points inserted so far
	for _, c := range op {
		switch {
		case c.Skip > 0:
			for ; j < len(oldPos) && oldPos[j] < oldAt+c.Skip; j++ {
				pos = append(pos, oldPos[j]-oldAt+newAt)
				ids = append(ids, oldIDs[j])
			}
			oldAt += c.Skip
			newAt += c.Skip
		case c.Insert != "":
			forEachOpen(c.Insert, func(off int) {
				pos = append(pos, newAt+off)
				ids = append(ids, ID{Rev: rev, K: k + off})
			})
			n := utf8.RuneCountInString(c.Insert)
			newAt += n
			k += n
		case c.Delete > 0:
			for j < len(oldPos) && oldPos[j] < oldAt+c.Delete {
				j++
			}
			oldAt += c.Delete
		}
	}
	for ; j < len(oldPos); j++ { // the implicit trailing skip
		pos = append(pos, oldPos[j]-oldAt+newAt)
		ids = append(ids, oldIDs[j])
	}
	t.rebuild(pos, ids)
}

// rebuild replaces the blocks with the sorted list pos/ids.
func (t *Tracker) rebuild(pos []int, ids []ID) {
	t.count = len(pos)
	t.blocks = t.blocks[:0]
	for i := 0; i < len(pos); i += blockMax / 2 {
		end := min(i+blockMax/2, len(pos))
		t.blocks = append(t.blocks, block{
			pos: append([]int(nil), pos[i:end]...),
			ids: append([]ID(nil), ids[i:end]...),
		})
	}
}

// find returns the block and index of the first bracket at or after p;
// (len(t.blocks), 0) if there is none. Blocks are never empty.
func (t *Tracker) find(p int) (int, int) {
	lo, hi := 0, len(t.blocks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		b := &t.blocks[m]
		if b.pos[len(b.pos)-1]+b.delta < p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(t.blocks) {
		return lo, 0
	}
	b := &t.blocks[lo]
	q := p - b.delta
	i, j := 0, len(b.pos)
	for i < j {
		m := int(uint(i+j) >> 1)
		if b.pos[m] < q {
			i = m + 1
		} else {
			j = m
		}
	}
	return lo, i
}

// shift adds d to the positions of the brackets from (b, i) on.
func (t *Tracker) shift(b, i, d int) {
	if b >= len(t.blocks) || d == 0 {
		return
	}
	if i == 0 {
		t.blocks[b].delta += d
	} else {
		ps := t.blocks[b].pos
		for j := i; j < len(ps); j++ {
			ps[j] += d
		}
	}
	for j := b + 1; j < len(t.blocks); j++ {
		t.blocks[j].delta += d
	}
}

// insert puts the brackets pos/ids (ascending, all before the bracket at
// (b, i) and after the one before it) at (b, i).
func (t *Tracker) insert(b, i int, pos []int, ids []ID) {
	if b == len(t.blocks) {
		if b == 0 {
			t.blocks = append(t.blocks, block{})
		} else {
			b--
			i = len(t.blocks[b].pos)
		}
	}
	bl := &t.blocks[b]
	rel := make([]int, len(pos))
	for j, p := range pos {
		rel[j] = p - bl.delta
	}
	bl.pos = insertAt(bl.pos, i, rel...)
	bl.ids = insertAt(bl.ids, i, ids...)
	t.count += len(pos)
	if len(bl.pos) > blockMax {
		t.split(b)
	}
}

func insertAt[E any](s []E, i int, v ...E) []E {
	s = append(s, v...)
	copy(s[i+len(v):], s[i:len(s)-len(v)])
	copy(s[i:], v)
	return s
}

// split cuts block b into blocks of about blockMax/2.
func (t *Tracker) split(b int) {
	bl := t.blocks[b]
	n := len(bl.pos)
	parts := (n + blockMax/2 - 1) / (blockMax / 2)
	size := (n + parts - 1) / parts
	var nb []block
	for i := 0; i < n; i += size {
		end := min(i+size, n)
		nb = append(nb, block{delta: bl.delta,
			pos: append([]int(nil), bl.pos[i:end]...),
			ids: append([]ID(nil), bl.ids[i:end]...)})
	}
	t.blocks = append(t.blocks[:b], append(nb, t.blocks[b+1:]...)...)
}

// delete removes the brackets in [p, q) and moves the later ones back.
func (t *Tracker) delete(p, q int) {
	b1, i1 := t.find(p)
	b2, i2 := t.find(q)
	removed := 0
	if b1 == b2 {
		if b1 < len(t.blocks) && i2 > i1 {
			bl := &t.blocks[b1]
			bl.pos = append(bl.pos[:i1], bl.pos[i2:]...)
			bl.ids = append(bl.ids[:i1], bl.ids[i2:]...)
			removed = i2 - i1
		}
		t.count -= removed
		t.shift(b1, i1, p-q)
		t.tidy(b1)
		return
	}
	// b1 < b2: cut the tail of b1, the blocks between, the head of b2.
	removed = len(t.blocks[b1].pos) - i1
	t.blocks[b1].pos = t.blocks[b1].pos[:i1]
	t.blocks[b1].ids = t.blocks[b1].ids[:i1]
	for j := b1 + 1; j < b2; j++ {
		removed += len(t.blocks[j].pos)
	}
	if b2 < len(t.blocks) {
		removed += i2
		bl := &t.blocks[b2]
		bl.pos = append(bl.pos[:0], bl.pos[i2:]...)
		bl.ids = append(bl.ids[:0], bl.ids[i2:]...)
	}
	t.blocks = append(t.blocks[:b1+1], t.blocks[b2:]...)
	t.count -= removed
	t.shift(b1+1, 0, p-q)
	t.tidy(b1 + 1)
	t.tidy(b1)
}

// tidy removes block b if it is empty and merges it with a neighbour if it
// has become small, so that the number of blocks stays about n/blockMax.
func (t *Tracker) tidy(b int) {
	if b >= len(t.blocks) {
		return
	}
	if len(t.blocks[b].pos) == 0 {
		t.blocks = append(t.blocks[:b], t.blocks[b+1:]...)
		return
	}
	if len(t.blocks[b].pos) >= blockMin {
		return
	}
	switch {
	case b+1 < len(t.blocks) && len(t.blocks[b].pos)+len(t.blocks[b+1].pos) <= blockMax:
		t.merge(b)
	case b > 0 && len(t.blocks[b-1].pos)+len(t.blocks[b].pos) <= blockMax:
		t.merge(b - 1)
	}
}

// merge appends block b+1 to block b.
func (t *Tracker) merge(b int) {
	dst, src := &t.blocks[b], &t.blocks[b+1]
	for _, p := range src.pos {
		dst.pos = append(dst.pos, p+src.delta-dst.delta)
	}
	dst.ids = append(dst.ids, src.ids...)
	t.blocks = append(t.blocks[:b+1], t.blocks[b+2:]...)
}

// MarshalJSON encodes the tracker's state (its revision, text length,
// brackets and ids) as charid.Marks, to be stored as a snapshot Meta
// section.
func (t *Tracker) MarshalJSON() ([]byte, error) {
	pos, ids := t.Positions()
	return json.Marshal(charid.NewMarks(t.rev, t.length, pos, func(i int) charid.ID { return charid.ID(ids[i]) }))
}

// UnmarshalJSON restores a state written by MarshalJSON. Errors wrap
// ErrCorrupt; on error t is unchanged.
func (t *Tracker) UnmarshalJSON(data []byte) error {
	var m charid.Marks
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := m.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	pos := make([]int, 0, len(m.Gaps))
	ids := make([]ID, 0, len(m.Gaps))
	m.Each(func(p int, id charid.ID) {
		pos, ids = append(pos, p), append(ids, ID(id))
	})
	t.rev, t.length = m.Rev, m.Len
	t.rebuild(pos, ids)
	return nil
}
