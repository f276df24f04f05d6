package provisions

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/internal/charid"
	"github.com/draftroom/draftroom/ot"
)

// ID is the identity of a provision: the identity (charid.ID) of its
// marker's first character (the "A" of "Article 17", the "2" of "2."), so a
// provision keeps its id while its text, its title and the text around it
// change.
//
// Two cases give ids that are not a character's insertion: an old character
// that becomes a marker's first character (the text before it on its line
// was deleted) gets K = the op's inserted length + its position, so it
// cannot collide with an inserted character; and a renumbering op hands
// every provision the id it had before (Tracker.ApplyRenumber), though the
// digits of its number were replaced.
type ID charid.ID

// String returns the id in its wire form, p<rev>.<k>.
func (id ID) String() string { return string(charid.Append(make([]byte, 0, 16), 'p', id.Rev, id.K)) }

// ParseID reads the wire form p<rev>.<k> (decimal, no sign, no leading
// zeros). Errors wrap ErrBadID.
func ParseID(s string) (ID, error) {
	rev, k, ok := charid.Parse(s, 'p')
	if !ok {
		return ID{}, fmt.Errorf("provision id %q: %w", s, ErrBadID)
	}
	return ID{Rev: rev, K: k}, nil
}

// Text is what the tracker reads of a draft's text: ot.Text satisfies it.
type Text interface {
	Len() int
	Slice(from, to int) string
}

// mark is a character that is, or was, the first character of a marker,
// with its identity.
type mark struct {
	pos int
	id  ID
}

// Tracker follows a draft's provisions through its committed ops: the
// lines that matter to the structure (every line with a marker, and the
// plain lines before the first heading), and the identity of every
// character that is or was a marker's first character. An op costs a pass
// over those lines (a few thousand integers for a long treaty) and a
// re-read of the lines it touched, not a parse of the text.
//
// It is not safe for concurrent use; the draft's owner goroutine owns it.
// Apply ops in revision order, after they commit (an op that is rolled
// back must not reach the tracker: re-inserting a character gives it a new
// identity; use Clone to work on a copy).
type Tracker struct {
	rev    int
	length int
	lines  []line // by start
	marks  []mark // by pos
	// changed: the last Apply changed which lines are provisions, their
	// classes or kinds, or the identities (not only moved them, nor only
	// edited a title or a number), so the counts by status may differ.
	changed bool
}

// NewTracker returns the tracker of a draft's initial text (revision 0):
// the provision whose marker starts at p has id p0.<p>.
func NewTracker(text string) *Tracker {
	lines, n := scanText(text, 0, true)
	t := &Tracker{length: n, lines: lines, marks: make([]mark, len(lines))}
	for i, l := range lines {
		t.marks[i] = mark{l.mark, ID{0, l.mark}}
	}
	return t
}

// Rev returns the revision of the text the tracker describes.
func (t *Tracker) Rev() int { return t.rev }

// Len returns the length in code points of that text.
func (t *Tracker) Len() int { return t.length }

// Clone returns an independent copy.
func (t *Tracker) Clone() *Tracker {
	return &Tracker{rev: t.rev, length: t.length, lines: slices.Clone(t.lines), marks: slices.Clone(t.marks)}
}

// List returns the provisions of the text the tracker describes, with
// their ids: Parse's result for that text, IDs set.
func (t *Tracker) List() []Provision {
	ps := structure(t.lines, t.length)
	j := 0
	for i := range ps {
		for j < len(t.marks) && t.marks[j].pos < ps[i].Mark {
			j++
		}
		if j < len(t.marks) && t.marks[j].pos == ps[i].Mark {
			ps[i].ID = t.marks[j].id.String()
		}
	}
	return ps
}

// Apply moves the provisions through op, the op that took the text from
// revision rev-1 to rev (already committed); text is the text after it. On
// error (ErrRevision if rev is not Rev()+1, ErrOp if op is malformed or does
// not fit, ErrOutOfSync if text is not as long as op leaves it) the tracker
// is unchanged.
func (t *Tracker) Apply(op ot.Op, rev int, text Text) error {
	return t.apply(op, rev, text, false)
}

// ApplyRenumber is Apply for an op built by Renumber: every provision keeps
// the id it had before, in order, although the characters of its number
// were replaced.
func (t *Tracker) ApplyRenumber(op ot.Op, rev int, text Text) error {
	return t.apply(op, rev, text, true)
}

// edit is one insert or delete of an op in the new text's coordinates: the
// inserted code points [at, at+n) (n is 0 for a delete) and, for an
// insert, the index k of its first code point among the op's inserts.
type edit struct {
	at, n, k int
}

func (t *Tracker) apply(op ot.Op, rev int, text Text, renumber bool) error {
	if rev != t.rev+1 {
		return fmt.Errorf("op for revision %d on tracker at %d: %w", rev, t.rev, ErrRevision)
	}
	var edits []edit
	base, newAt, inserted := 0, 0, 0
	for i, c := range op {
		switch {
		case c.Skip > 0 && c.Insert == "" && c.Delete == 0 && c.Deleted == "":
			if c.Skip > t.length-base {
				return fmt.Errorf("op %d skips past the end of %d code points: %w", rev, t.length, ErrOp)
			}
			base += c.Skip
			newAt += c.Skip
		case c.Insert != "" && c.Skip == 0 && c.Delete == 0 && c.Deleted == "":
			n := utf8.RuneCountInString(c.Insert)
			edits = append(edits, edit{at: newAt, n: n, k: inserted})
			newAt += n
			inserted += n
		case c.Delete > 0 && c.Skip == 0 && c.Insert == "":
			if c.Delete > t.length-base {
				return fmt.Errorf("op %d deletes past the end of %d code points: %w", rev, t.length, ErrOp)
			}
			edits = append(edits, edit{at: newAt})
			base += c.Delete
		default:
			return fmt.Errorf("component %d of op %d: %w", i, rev, ErrOp)
		}
	}
	newLen := newAt + t.length - base
	if text.Len() != newLen {
		return fmt.Errorf("op %d leaves %d code points, text has %d: %w", rev, newLen, text.Len(), ErrOutOfSync)
	}
	var oldIDs []ID
	if renumber {
		oldIDs = t.lineIDs()
	}
	t.changed = false
	oldFirst := t.firstHeading()
	if oldFirst >= 0 {
		oldFirst = newPosition(op, t.lines[oldFirst].start)
	}
	t.remap(op)
	t.length, t.rev = newLen, rev

	// Re-read the lines the edits touched, whole.
	rd := reader{text: text, n: newLen}
	var regions [][2]int
	for _, e := range edits {
		x, y := rd.lineStart(e.at), rd.lineEnd(e.at+e.n)
		if k := len(regions) - 1; k >= 0 && x <= regions[k][1]+1 {
			regions[k][1] = max(regions[k][1], y)
			continue
		}
		regions = append(regions, [2]int{x, y})
	}
	for i := len(regions) - 1; i >= 0; i-- {
		t.rescan(regions[i][0], regions[i][1], rd, edits, inserted, rev)
	}
	// The first heading decides which plain lines are preambular.
	first := t.firstHeading()
	if first >= 0 {
		cut := t.lines[first].start
		n := len(t.lines)
		t.lines = slices.DeleteFunc(t.lines, func(l line) bool { return l.cls == clsPlain && l.start > cut })
		t.changed = t.changed || len(t.lines) != n
	}
	if oldFirst >= 0 {
		// The first heading moved down or went: the plain lines between
		// where it was and where it is now are preambular.
		end := newLen
		if first >= 0 {
			end = t.lines[first].start - 1 // its line break, not the heading
		}
		if x := rd.lineStart(min(oldFirst, newLen)); x <= end {
			t.rescan(x, end, rd, edits, inserted, rev)
		}
	}
	if renumber && len(oldIDs) == len(t.lines) {
		for i, l := range t.lines {
			t.setMark(l.mark, oldIDs[i])
		}
	}
	return nil
}

// lineIDs returns the id of each line's marker, in order.
func (t *Tracker) lineIDs() []ID {
	ids := make([]ID, len(t.lines))
	for i, l := range t.lines {
		if j, ok := t.findMark(l.mark); ok {
			ids[i] = t.marks[j].id
		}
	}
	return ids
}

// firstHeading returns the index in lines of the first heading, or -1.
func (t *Tracker) firstHeading() int {
	for i, l := range t.lines {
		if l.cls == clsHeading {
			return i
		}
	}
	return -1
}

// newPosition maps the position p of the old text through op: where the
// character at p went, or where it was deleted.
func newPosition(op ot.Op, p int) int {
	m := posMap{op: op}
	q, _ := m.at(p)
	return q
}

// posMap maps positions of the old text through an op, for positions
// asked in non-decreasing order.
type posMap struct {
	op           ot.Op
	i            int
	oldAt, newAt int
}

// at returns where the character at old position p went, and false if the
// op deleted it (then the position is where it was deleted). An insert at
// p goes before the character.
func (m *posMap) at(p int) (int, bool) {
	for m.i < len(m.op) {
		c := m.op[m.i]
		switch {
		case c.Insert != "":
			m.newAt += utf8.RuneCountInString(c.Insert)
		case c.Skip > 0:
			if p < m.oldAt+c.Skip {
				return m.newAt + p - m.oldAt, true
			}
			m.oldAt += c.Skip
			m.newAt += c.Skip
		case c.Delete > 0:
			if p < m.oldAt+c.Delete {
				return m.newAt, false
			}
			m.oldAt += c.Delete
		}
		m.i++
	}
	return m.newAt + p - m.oldAt, true
}

// remap moves the lines and marks through op. Marks whose character was
// deleted go; lines whose first or marker character was deleted go too
// (the edit's region is re-read).
func (t *Tracker) remap(op ot.Op) {
	ms := posMap{op: op}
	marks := t.marks[:0]
	for _, m := range t.marks {
		if p, ok := ms.at(m.pos); ok {
			marks = append(marks, mark{p, m.id})
		}
	}
	t.changed = t.changed || len(marks) != len(t.marks)
	t.marks = marks
	starts, markers := posMap{op: op}, posMap{op: op}
	lines := t.lines[:0]
	for _, l := range t.lines {
		s, ok1 := starts.at(l.start)
		m, ok2 := markers.at(l.mark)
		if ok1 && ok2 {
			l.start, l.mark = s, m
			lines = append(lines, l)
		}
	}
	t.changed = t.changed || len(lines) != len(t.lines)
	t.lines = lines
}

// rescan replaces the lines starting in [x, y] with those read from the
// text [x, y) (x a line start, y the end of a line), giving ids to new
// markers.
func (t *Tracker) rescan(x, y int, rd reader, edits []edit, inserted, rev int) {
	i := sortSearch(len(t.lines), func(i int) bool { return t.lines[i].start >= x })
	j := sortSearch(len(t.lines), func(j int) bool { return t.lines[j].start > y })
	fresh, _ := scanText(rd.text.Slice(x, y), x, false)
	if !slices.Equal(t.lines[i:j], fresh) {
		t.changed = t.changed || !sameShape(t.lines[i:j], fresh)
		t.lines = slices.Replace(t.lines, i, j, fresh...)
	}
	for _, l := range fresh {
		if _, ok := t.findMark(l.mark); ok {
			continue
		}
		id := ID{Rev: rev, K: inserted + l.mark}
		for _, e := range edits {
			if l.mark >= e.at && l.mark < e.at+e.n {
				id.K = e.k + l.mark - e.at
				break
			}
		}
		t.setMark(l.mark, id)
		t.changed = true
	}
}

// sameShape reports whether two runs of lines are the same provisions but
// for their titles and numbers.
func sameShape(a, b []line) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].start != b[i].start || a[i].mark != b[i].mark || a[i].cls != b[i].cls || a[i].kind != b[i].kind ||
			a[i].letter != b[i].letter || a[i].roman != b[i].roman {
			return false
		}
	}
	return true
}

func (t *Tracker) findMark(pos int) (int, bool) {
	return slices.BinarySearchFunc(t.marks, pos, func(m mark, p int) int { return m.pos - p })
}

// setMark gives the character at pos the identity id.
func (t *Tracker) setMark(pos int, id ID) {
	j, ok := t.findMark(pos)
	if ok {
		t.marks[j].id = id
		return
	}
	t.marks = slices.Insert(t.marks, j, mark{pos, id})
}

func sortSearch(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// reader finds line boundaries in a Text by reading around a position.
type reader struct {
	text Text
	n    int
}

// lineStart returns the start of the line holding position p.
func (r reader) lineStart(p int) int {
	for size := 256; ; size *= 4 {
		from := max(0, p-size)
		s := r.text.Slice(from, p)
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			return from + utf8.RuneCountInString(s[:i]) + 1
		}
		if from == 0 {
			return 0
		}
	}
}

// lineEnd returns the position of the line break that ends the line holding
// position p, or the end of the text.
func (r reader) lineEnd(p int) int {
	for size := 256; ; size *= 4 {
		to := min(r.n, p+size)
		s := r.text.Slice(p, to)
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			return p + utf8.RuneCountInString(s[:i])
		}
		if to == r.n {
			return r.n
		}
	}
}

// Check reports (ErrOutOfSync) whether the tracker does not describe text.
// It costs a parse of the text; use it after restoring a tracker.
func (t *Tracker) Check(text string) error {
	want, n := scanText(text, 0, true)
	if n != t.length || !slices.Equal(want, t.lines) {
		return fmt.Errorf("text has %d code points and %d structure lines, tracker %d and %d: %w",
			n, len(want), t.length, len(t.lines), ErrOutOfSync)
	}
	return nil
}

// MarshalJSON encodes the tracker's state (revision, length, identities)
// as charid.Marks, to be stored as a snapshot Meta section beside the
// text; the lines are read again from the text.
func (t *Tracker) MarshalJSON() ([]byte, error) {
	pos := make([]int, len(t.marks))
	for i, m := range t.marks {
		pos[i] = m.pos
	}
	return json.Marshal(charid.NewMarks(t.rev, t.length, pos, func(i int) charid.ID { return charid.ID(t.marks[i].id) }))
}

// Restore rebuilds a tracker from data written by MarshalJSON and the text
// it was written with. Errors wrap ErrCorrupt or ErrOutOfSync.
func Restore(data []byte, text string) (*Tracker, error) {
	var j charid.Marks
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := j.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	lines, n := scanText(text, 0, true)
	if n != j.Len {
		return nil, fmt.Errorf("state of %d code points for a text of %d: %w", j.Len, n, ErrOutOfSync)
	}
	t := &Tracker{rev: j.Rev, length: n, lines: lines, marks: make([]mark, 0, len(j.Gaps))}
	j.Each(func(p int, id charid.ID) { t.marks = append(t.marks, mark{p, ID(id)}) })
	for _, l := range lines {
		if _, ok := t.findMark(l.mark); !ok {
			return nil, fmt.Errorf("no identity for the provision at %d: %w", l.mark, ErrOutOfSync)
		}
	}
	return t, nil
}
