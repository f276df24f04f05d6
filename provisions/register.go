package provisions

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Status is where the negotiation of a provision stands.
type Status string

// The statuses. A provision nobody gave a status is Open.
const (
	Open     Status = "open"
	Informal Status = "informal"  // under informal consultation
	Agreed   Status = "agreed"    // agreed ad referendum: its text is locked
	SetAside Status = "set_aside" // set aside, to come back to
)

// Statuses lists the statuses in the order counts show them.
var Statuses = []Status{Open, Informal, Agreed, SetAside}

// ParseStatus checks a status's name. Errors wrap ErrStatus.
func ParseStatus(s string) (Status, error) {
	for _, x := range Statuses {
		if string(x) == s {
			return x, nil
		}
	}
	return "", refuse(ErrStatus, "status must be open, informal, agreed or set_aside, not %q", s)
}

// Op kinds (dr.Op.Kind) of the ops this package gives meaning to. A
// status change is committed as an op that changes no text, of kind
// "status.<status>", with the provision's id as its Group, so that every
// node reads the same statuses from the log; a renumbering is of kind
// KindRenumber.
const (
	KindStatusPrefix = "status."
	KindRenumber     = "renumber"
)

// StatusKind is the op kind of a change to status s.
func StatusKind(s Status) string { return KindStatusPrefix + string(s) }

// StatusOfKind returns the status an op of that kind sets, if it is a
// status change.
func StatusOfKind(kind string) (Status, bool) {
	rest, ok := strings.CutPrefix(kind, KindStatusPrefix)
	if !ok {
		return "", false
	}
	s, err := ParseStatus(rest)
	return s, err == nil
}

// Record is the last status change of a provision.
type Record struct {
	Status Status    `json:"status"`
	By     dr.Author `json:"by"`
	Rev    int       `json:"rev"`
	TS     int64     `json:"ts"`
}

// Counts are the numbers of provisions by status.
type Counts struct {
	Open     int `json:"open"`
	Informal int `json:"informal"`
	Agreed   int `json:"agreed"`
	SetAside int `json:"set_aside"`
	Total    int `json:"total"`
}

func (c *Counts) add(s Status) {
	switch s {
	case Informal:
		c.Informal++
	case Agreed:
		c.Agreed++
	case SetAside:
		c.SetAside++
	default:
		c.Open++
	}
	c.Total++
}

// StatPoint says that from revision Rev on (committed at TS, Unix ms) the
// draft's provisions counted Counts, until the next point.
type StatPoint struct {
	Rev int   `json:"rev"`
	TS  int64 `json:"ts"`
	Counts
}

// Listed is a provision with its status. Status is the provision's own, or
// Agreed when a provision holding it is agreed (Record is then that
// provision's); Locked says whether its marker lies in locked text.
type Listed struct {
	Provision
	Status Status
	Record *Record // nil: never given a status
	Locked bool
	// LockSpan is the locked text of a provision agreed itself (not only
	// through a provision holding it): see LockOf.
	LockSpan *[2]int
	// Packages are the ids of the packages that hold it.
	Packages []string
}

// Register is a draft's provisions with their statuses and locks, kept up
// to date with the committed ops by the draft's owner (Apply), and the
// curve of counts by status. It is not safe for concurrent use.
type Register struct {
	tracker  *Tracker
	status   map[ID]Record
	locks    Locks
	counts   Counts
	points   []StatPoint
	packages []Package
}

// NewRegister returns the register of a draft's initial text, created at
// ts: every provision open.
func NewRegister(text string, ts int64) *Register {
	r := &Register{tracker: NewTracker(text), status: make(map[ID]Record)}
	r.counts = r.count(r.List())
	r.points = []StatPoint{{Rev: 0, TS: ts, Counts: r.counts}}
	return r
}

// Rev returns the revision the register describes.
func (r *Register) Rev() int { return r.tracker.rev }

// Locks returns the locked spans (the caller must not modify them).
func (r *Register) Locks() Locks { return r.locks }

// Counts returns the counts at Rev.
func (r *Register) Counts() Counts { return r.counts }

// Points returns the curve of counts (append-only: a slice returned stays
// valid).
func (r *Register) Points() []StatPoint { return r.points[:len(r.points):len(r.points)] }

// List returns the provisions with their statuses.
func (r *Register) List() []Listed {
	ps := r.tracker.List()
	out := make([]Listed, len(ps))
	locks := make(map[string]*[2]int, len(r.locks))
	for _, l := range r.locks {
		locks[l.ID] = &l.Span
	}
	for i, p := range ps {
		out[i] = Listed{Provision: p, Status: Open, LockSpan: locks[p.ID]}
		if len(r.packages) > 0 {
			out[i].Packages = r.PackagesOf(p.ID)
		}
		if id, err := ParseID(p.ID); err == nil {
			if rec, ok := r.status[id]; ok {
				out[i].Status, out[i].Record = rec.Status, &rec
			}
		}
		if p.Parent >= 0 && out[p.Parent].Status == Agreed {
			out[i].Status, out[i].Record = Agreed, out[p.Parent].Record
		}
		out[i].Locked = r.locks.Holds(p.Mark)
	}
	return out
}

func (r *Register) count(ls []Listed) Counts {
	var c Counts
	for _, l := range ls {
		c.add(l.Status)
	}
	return c
}

// Apply follows op, committed as op.Rev, to the text after it. Errors are
// the tracker's; on error the register is unchanged.
func (r *Register) Apply(op dr.Op, text Text) error {
	renumber := op.Kind == KindRenumber
	var err error
	if renumber {
		err = r.tracker.ApplyRenumber(op.Op, op.Rev, text)
	} else {
		err = r.tracker.Apply(op.Op, op.Rev, text)
	}
	if err != nil {
		return err
	}
	st, isStatus := StatusOfKind(op.Kind)
	var list []Listed
	if renumber {
		// Numbers inside locked text changed: the spans are read again.
		list = r.List()
		locks := Locks{}
		for _, l := range r.locks {
			if i := Find(list, l.ID); i >= 0 {
				locks = locks.With(LockOf(text, list, i))
			}
		}
		r.locks = locks
	} else {
		r.locks = r.locks.Transform(op.Op)
	}
	if isStatus {
		// One provision, or the provisions of a package agreed together.
		for _, g := range strings.Split(op.Group, ",") {
			if id, err := ParseID(g); err == nil {
				r.status[id] = Record{Status: st, By: op.By, Rev: op.Rev, TS: op.TS}
				r.locks = r.locks.Without(g)
			}
		}
		if st == Agreed {
			list = r.List()
			for _, g := range strings.Split(op.Group, ",") {
				if i := Find(list, g); i >= 0 {
					r.locks = r.locks.With(LockOf(text, list, i))
				}
			}
		}
	}
	if op.Kind == KindPackage {
		if p, ok := ParsePackageGroup(op.Group); ok {
			p.Rev = op.Rev
			r.packages = append(r.packages, p)
		}
	}
	if isStatus || renumber || r.tracker.changed {
		list = r.List()
		if c := r.count(list); c != r.counts {
			r.counts = c
			r.points = append(r.points, StatPoint{Rev: op.Rev, TS: op.TS, Counts: c})
		}
	}
	return nil
}

// Find returns the index in list of the provision with that id, or -1.
func Find(list []Listed, id string) int {
	for i := range list {
		if list[i].ID == id {
			return i
		}
	}
	return -1
}

// Change checks that provision id of list (the register's listing at the
// state the change commits on) may take status to, and returns its index.
// Errors wrap ErrNoProvision (no such provision) or ErrStatus (it has that
// status already, or it lies in an agreed provision: reopen that first).
// Whether agreed text holds an open bracket is the caller's to check.
func Change(list []Listed, id string, to Status) (int, error) {
	i := Find(list, id)
	if i < 0 {
		return -1, fmt.Errorf("no provision %s: %w", id, ErrNoProvision)
	}
	l := list[i]
	if p := l.Parent; p >= 0 && list[p].Status == Agreed {
		top := p
		for list[top].Parent >= 0 && list[list[top].Parent].Status == Agreed {
			top = list[top].Parent
		}
		return -1, refuse(ErrStatus, "%s %s lies in %s %s, which is agreed; reopen that first", l.Kind, l.Num, list[top].Kind, list[top].Num)
	}
	if l.Status == to {
		return -1, refuse(ErrStatus, "%s %s is %s already", l.Kind, l.Num, to)
	}
	return i, nil
}

// ErrNoProvision: no provision with that id.
var ErrNoProvision = fmt.Errorf("provisions: no such provision")

// registerJSON is the persisted form of a Register (a snapshot Meta
// section): the tracker, the status records, the locks and the curve.
type registerJSON struct {
	V        int             `json:"v"`
	Tracker  json.RawMessage `json:"tracker"`
	Status   []statusJSON    `json:"status"`
	Locks    []Lock          `json:"locks"`
	Points   []StatPoint     `json:"points"`
	Packages []Package       `json:"packages,omitempty"`
}

type statusJSON struct {
	ID string `json:"id"`
	Record
}

// MarshalJSON encodes the register.
func (r *Register) MarshalJSON() ([]byte, error) {
	tr, err := json.Marshal(r.tracker)
	if err != nil {
		return nil, err
	}
	j := registerJSON{V: 1, Tracker: tr, Locks: r.locks, Points: r.points, Packages: r.packages}
	for id, rec := range r.status {
		j.Status = append(j.Status, statusJSON{ID: id.String(), Record: rec})
	}
	return json.Marshal(j)
}

// RestoreRegister rebuilds a register from data written by MarshalJSON and
// the text it was written with. Errors wrap ErrCorrupt or ErrOutOfSync.
func RestoreRegister(data []byte, text string) (*Register, error) {
	var j registerJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if j.V != 1 || len(j.Points) == 0 {
		return nil, fmt.Errorf("register version %d with %d points: %w", j.V, len(j.Points), ErrCorrupt)
	}
	tr, err := Restore(j.Tracker, text)
	if err != nil {
		return nil, err
	}
	r := &Register{tracker: tr, status: make(map[ID]Record, len(j.Status)), locks: j.Locks, points: j.Points, packages: j.Packages}
	for _, s := range j.Status {
		id, err := ParseID(s.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		r.status[id] = s.Record
	}
	for _, l := range r.locks {
		if l.Span[0] < 0 || l.Span[1] < l.Span[0] || l.Span[1] > tr.length {
			return nil, fmt.Errorf("lock %s [%d,%d) in %d code points: %w", l.ID, l.Span[0], l.Span[1], tr.length, ErrCorrupt)
		}
	}
	r.counts = j.Points[len(j.Points)-1].Counts
	return r, nil
}

// Summary is an article's progress: its paragraphs agreed out of all.
type Summary struct {
	ID         string `json:"id"`
	Num        string `json:"num"`
	Title      string `json:"title"`
	Status     Status `json:"status"`
	Paragraphs int    `json:"paragraphs"`
	Agreed     int    `json:"agreed"`
}

// Summaries returns the progress of each article of list.
func Summaries(list []Listed) []Summary {
	var out []Summary
	idx := make(map[int]int) // article index in list → index in out
	for i, l := range list {
		if l.Kind == Article {
			idx[i] = len(out)
			out = append(out, Summary{ID: l.ID, Num: l.Num, Title: l.Title, Status: l.Status})
			continue
		}
		if l.Kind != Paragraph {
			continue
		}
		for p := l.Parent; p >= 0; p = list[p].Parent {
			if k, ok := idx[p]; ok {
				out[k].Paragraphs++
				if l.Status == Agreed {
					out[k].Agreed++
				}
				break
			}
		}
	}
	return out
}

// compile-time check that ot.Text is a Text.
var _ Text = (*ot.Text)(nil)

// ListAfter lists the provisions of text, the register's text after the
// ops staged (applied in memory, not committed yet), with the statuses and
// the locks given: a provision keeps its id when the ops kept its marker's
// first character; one the ops made has no id yet. It parses the whole
// text; use List when nothing is staged.
func (r *Register) ListAfter(staged []ot.Op, text string, locks Locks) []Listed {
	marks := r.tracker.marks
	for _, op := range staged {
		m := posMap{op: op}
		next := make([]mark, 0, len(marks))
		for _, mk := range marks {
			if p, ok := m.at(mk.pos); ok {
				next = append(next, mark{p, mk.id})
			}
		}
		marks = next
	}
	ps := Parse(text)
	out := make([]Listed, len(ps))
	j := 0
	for i, p := range ps {
		for j < len(marks) && marks[j].pos < p.Mark {
			j++
		}
		out[i] = Listed{Provision: p, Status: Open}
		if j < len(marks) && marks[j].pos == p.Mark {
			out[i].ID = marks[j].id.String()
			if rec, ok := r.status[marks[j].id]; ok {
				out[i].Status, out[i].Record = rec.Status, &rec
			}
		}
		if p.Parent >= 0 && out[p.Parent].Status == Agreed {
			out[i].Status, out[i].Record = Agreed, out[p.Parent].Record
		}
		out[i].Locked = locks.Holds(p.Mark)
	}
	return out
}

// Copy returns a copy of the register that another goroutine may list
// while the owner goes on applying ops: the tracker's lines and
// identities and the statuses are copied; locks, packages and the curve
// are shared (they are replaced or appended to, never modified in place).
func (r *Register) Copy() *Register {
	c := *r
	c.tracker = r.tracker.Clone()
	c.status = make(map[ID]Record, len(r.status))
	for id, rec := range r.status {
		c.status[id] = rec
	}
	c.points = r.points[:len(r.points):len(r.points)]
	c.packages = r.packages[:len(r.packages):len(r.packages)]
	return &c
}
