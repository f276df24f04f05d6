package brackets

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// StatPoint is a point of the "brackets remaining" curve: from revision
// Rev on, the draft had Open groups (until the next point). TS is the
// commit time of Rev (Unix ms).
type StatPoint struct {
	Rev  int   `json:"rev"`
	Open int   `json:"open"`
	TS   int64 `json:"ts"`
}

// Observer is a draft's bracket state, kept by its owner goroutine as the
// ops commit: the identity Tracker, who committed each op that typed a
// '[', and (with stats) the number of open groups and diagnostics and the
// curve of open groups. It holds no text: Apply is handed the owner's.
//
// Apply, Meta, Tracker, Counts and Points belong to the owner goroutine;
// Opener may be called from any goroutine (openers are guarded by mu).
type Observer struct {
	creator dr.Author // author of revision 0
	tracker *Tracker
	stats   bool   // maintain open, diags and points
	index   *Index // counts groups and diagnostics, when stats
	open    int    // groups at tracker.Rev()
	diags   int    // diagnostics at tracker.Rev()
	points  []StatPoint
	err     error // an op did not apply: the state is not trusted any more

	mu      sync.Mutex
	openers map[int]dr.Author // rev → who committed it, for revs that typed a '['
}

// observerMeta is the persisted form of an Observer (Meta).
type observerMeta struct {
	V       int             `json:"v"`
	Tracker json.RawMessage `json:"tracker"`
	Openers []openerJSON    `json:"openers"`
	Open    int             `json:"open"`
	Diags   int             `json:"diags"`
	Points  [][3]int64      `json:"points"` // rev, open, ts
}

type openerJSON struct {
	Rev int       `json:"rev"`
	By  dr.Author `json:"by"`
}

// NewObserver returns the observer of draft d's initial text (revision
// 0). stats says whether to maintain the counts and the curve as ops are
// applied (off for a throwaway replay).
func NewObserver(d dr.Draft, text string, stats bool) *Observer {
	o := &Observer{creator: d.By, stats: stats, openers: make(map[int]dr.Author), tracker: NewTracker(text)}
	idx := NewIndex(text)
	o.open, o.diags = idx.Groups(), idx.Diagnostics()
	if stats {
		o.index = idx
	}
	o.points = []StatPoint{{Rev: 0, Open: o.open, TS: d.Created}}
	return o
}

// RestoreObserver returns the observer of draft d at revision rev, whose
// text is text, from what Meta wrote then. Errors wrap ErrCorrupt when
// meta is not an observer of that revision and text.
func RestoreObserver(d dr.Draft, meta json.RawMessage, rev int, text string, stats bool) (*Observer, error) {
	var m observerMeta
	if err := json.Unmarshal(meta, &m); err != nil || m.V != 1 {
		return nil, fmt.Errorf("brackets: snapshot %d section: %w", rev, ErrCorrupt)
	}
	o := &Observer{creator: d.By, stats: stats, openers: make(map[int]dr.Author), tracker: &Tracker{}}
	if err := json.Unmarshal(m.Tracker, o.tracker); err != nil {
		return nil, fmt.Errorf("brackets: snapshot %d tracker: %w", rev, err)
	}
	if o.tracker.Rev() != rev {
		return nil, fmt.Errorf("brackets: snapshot %d holds the tracker of revision %d: %w", rev, o.tracker.Rev(), ErrCorrupt)
	}
	if err := o.tracker.Check(text); err != nil {
		return nil, fmt.Errorf("brackets: snapshot %d: %w", rev, err)
	}
	for _, op := range m.Openers {
		o.openers[op.Rev] = op.By
	}
	o.open, o.diags = m.Open, m.Diags
	o.points = make([]StatPoint, len(m.Points))
	for i, p := range m.Points {
		o.points[i] = StatPoint{Rev: int(p[0]), Open: int(p[1]), TS: p[2]}
	}
	if stats {
		o.recount(d, rev, text)
	}
	return o, nil
}

// recount reads the counts from the text (a snapshot written under the
// grammar before issue 13 counted "[a] [b]" as one group), mending the
// curve's last point when they differ.
func (o *Observer) recount(d dr.Draft, rev int, text string) {
	o.index = NewIndex(text)
	o.diags = o.index.Diagnostics()
	n := o.index.Groups()
	if n == o.open {
		return
	}
	o.open = n
	if k := len(o.points); k > 0 && o.points[k-1].Rev == rev {
		o.points[k-1].Open = n
		return
	}
	ts := d.Created
	if k := len(o.points); k > 0 {
		ts = o.points[k-1].TS
	}
	o.points = append(o.points, StatPoint{Rev: rev, Open: n, TS: ts})
}

// Apply follows a committed op (text is the draft's text as op left it):
// identities, openers and, with stats, the counts. The counts come from an
// Index, which reads only the text around the op's edits and recounts from
// the brackets alone when one changed: the owner's time per op is in
// proportion to the edit and the number of brackets, never to the text
// (BENCHMARKS.md). An op that does not apply breaks the observer (Err).
func (o *Observer) Apply(op dr.Op, text *ot.Text) {
	if o.err != nil {
		return
	}
	if err := o.tracker.Apply(op.Op, op.Rev); err != nil {
		o.err = fmt.Errorf("brackets: op %d: %w", op.Rev, err)
		return
	}
	for _, c := range op.Op {
		if strings.IndexByte(c.Insert, '[') >= 0 {
			o.mu.Lock()
			o.openers[op.Rev] = op.By
			o.mu.Unlock()
			break
		}
	}
	if !o.stats {
		return
	}
	changed, err := o.index.Apply(op.Op, text)
	if err != nil {
		o.err = fmt.Errorf("brackets: op %d: %w", op.Rev, err)
		return
	}
	if !changed {
		return
	}
	o.diags = o.index.Diagnostics()
	if n := o.index.Groups(); n != o.open {
		o.open = n
		o.points = append(o.points, StatPoint{Rev: op.Rev, Open: n, TS: op.TS})
	}
}

// Err returns why the observer's state is not trusted (an op did not
// apply), or nil.
func (o *Observer) Err() error { return o.err }

// Meta returns the observer's persisted form (for RestoreObserver): the
// tracker, the openers of the brackets it tracks, and the curve; nil when
// the state is not trusted.
func (o *Observer) Meta() json.RawMessage {
	if o.err != nil {
		return nil // never persist a state that is not trusted
	}
	tr, err := json.Marshal(o.tracker)
	if err != nil {
		return nil
	}
	m := observerMeta{V: 1, Tracker: tr, Open: o.open, Diags: o.diags, Points: make([][3]int64, len(o.points))}
	for i, p := range o.points {
		m.Points[i] = [3]int64{int64(p.Rev), int64(p.Open), p.TS}
	}
	// Only the openers of brackets still in the text are worth keeping.
	_, ids := o.tracker.Positions()
	seen := make(map[int]bool)
	o.mu.Lock()
	for _, id := range ids {
		if by, ok := o.openers[id.Rev]; ok && !seen[id.Rev] && id.Rev > 0 {
			seen[id.Rev] = true
			m.Openers = append(m.Openers, openerJSON{Rev: id.Rev, By: by})
		}
	}
	o.mu.Unlock()
	data, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return data
}

// Opener is who committed the op that typed the '[' of revision rev: the
// draft's creator for revision 0, the zero Author when unknown.
func (o *Observer) Opener(rev int) dr.Author {
	if rev == 0 {
		return o.creator
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.openers[rev]
}

// Tracker returns the identity tracker, at the last applied revision. It
// is the observer's: Clone it to use it elsewhere or to apply ops that
// are not committed.
func (o *Observer) Tracker() *Tracker { return o.tracker }

// Counts returns the number of open groups and of diagnostics.
func (o *Observer) Counts() (open, diagnostics int) { return o.open, o.diags }

// Points returns the curve of open groups. The slice is append-only and
// capped at its length: it may be read after the owner moves on.
func (o *Observer) Points() []StatPoint { return o.points[:len(o.points):len(o.points)] }
