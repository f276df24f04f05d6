package server

// Provisions in the live server (docs/PROVISIONS.md): the per-draft
// observer that keeps the provisions.Register up to date and guards agreed
// text, and the listing at any revision. The messages and endpoints are in
// provisions_api.go; the grammar, identities, statuses and locks are the
// provisions package's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/provisions"
)

// ProvisionsSection is the name of the provisions observer and of its
// snapshot Meta section.
const ProvisionsSection = "provisions"

// provisionsObserver is a draft's provisions, kept by its owner goroutine:
// the fields above mu belong to it (ApplyOp, Check, Meta and functions
// passed to Server.Do or submitBuilt); mu guards the cached listing, which
// request goroutines fill and read. It holds no text: ApplyOp is handed the
// owner's, as each op left it (the tracker re-reads the lines an op touched).
type provisionsObserver struct {
	reg *provisions.Register
	err error // an op did not apply: the state is not trusted any more

	// pending holds the lock of each status change built for a revision
	// not committed yet (nil: the change unlocks), so that the ops staged
	// after it in the same batch are checked against it.
	pending map[int][]provisions.Lock
	// The locks as staged so far in the current batch: valid while the
	// register is at baseRev and the batch's first staged ops are seen.
	staged  provisions.Locks
	seen    []dr.Op
	baseRev int

	// The listing at listRev, computed off the owner goroutine from a copy
	// of the register and kept for the next request at that revision.
	mu      sync.Mutex
	listRev int // -1 none
	list    []provisions.Listed
}

func restoreProvisions(d dr.Draft, snap dr.Snapshot) (*provisionsObserver, error) {
	o := &provisionsObserver{pending: make(map[int][]provisions.Lock), listRev: -1}
	data, ok := snap.Meta[ProvisionsSection]
	if !ok {
		if snap.Rev != 0 {
			return nil, fmt.Errorf("provisions: snapshot %d has no %q section: %w", snap.Rev, ProvisionsSection, provisions.ErrCorrupt)
		}
		o.reg = provisions.NewRegister(snap.Text, d.Created)
		return o, nil
	}
	reg, err := provisions.RestoreRegister(data, snap.Text)
	if err != nil {
		return nil, fmt.Errorf("provisions: snapshot %d: %w", snap.Rev, err)
	}
	if reg.Rev() != snap.Rev {
		return nil, fmt.Errorf("provisions: snapshot %d holds the register of revision %d: %w", snap.Rev, reg.Rev(), provisions.ErrCorrupt)
	}
	o.reg = reg
	return o, nil
}

// ApplyOp implements Observer: it follows a committed op (text is the
// draft's text as op left it).
func (o *provisionsObserver) ApplyOp(op dr.Op, text *ot.Text) {
	delete(o.pending, op.Rev)
	if o.err != nil {
		return
	}
	if err := o.reg.Apply(op, text); err != nil {
		o.err = fmt.Errorf("provisions: op %d: %w", op.Rev, err)
	}
}

// Meta implements Observer.
func (o *provisionsObserver) Meta() (string, json.RawMessage) {
	if o.err != nil {
		return ProvisionsSection, nil
	}
	data, err := json.Marshal(o.reg)
	if err != nil {
		return ProvisionsSection, nil
	}
	return ProvisionsSection, data
}

// Check implements Guard: an op that would change agreed text is refused
// with ErrLocked, naming the provision.
func (o *provisionsObserver) Check(op ot.Op, staged []dr.Op) error {
	if o.err != nil {
		return nil // no trusted locks; the error shows in every listing
	}
	locks := o.locksAfter(staged)
	if err := locks.Check(op); err != nil {
		var le *provisions.LockedError
		if errors.As(err, &le) {
			return dr.Errorf(dr.CodeLocked, "%s is agreed ad referendum: its text is locked (a facilitator may reopen it); start a new line before or after it to add a provision", le.Name)
		}
		return err
	}
	return nil
}

// locksAfter returns the locks after the staged ops, carrying the work
// over from the previous call of the same batch.
func (o *provisionsObserver) locksAfter(staged []dr.Op) provisions.Locks {
	same := o.baseRev == o.reg.Rev() && len(o.seen) <= len(staged)
	for i := 0; same && i < len(o.seen); i++ {
		same = sameOp(staged[i], o.seen[i])
	}
	if !same {
		o.staged, o.seen, o.baseRev = o.reg.Locks(), o.seen[:0], o.reg.Rev()
	}
	for _, op := range staged[len(o.seen):] {
		o.staged = o.staged.Transform(op.Op)
		if st, ok := provisions.StatusOfKind(op.Kind); ok {
			for _, id := range strings.Split(op.Group, ",") {
				o.staged = o.staged.Without(id)
			}
			if st == provisions.Agreed {
				for _, l := range o.pending[op.Rev] {
					o.staged = o.staged.With(l)
				}
			}
		}
		o.seen = append(o.seen, op)
	}
	return o.staged
}

// sameOp reports whether a and b are the same staged op (same revision,
// submission and kind: a batch staged again after a failed commit may
// differ).
func sameOp(a, b dr.Op) bool {
	return a.Rev == b.Rev && a.Client == b.Client && a.Seq == b.Seq && a.Principal == b.Principal &&
		a.Kind == b.Kind && a.Group == b.Group && len(a.Op) == len(b.Op)
}

// listAt returns the listing inside a BuildFunc or Do: at the committed
// head from the register, else (ops staged before it) by parsing the
// staged text.
func (o *provisionsObserver) listAt(st *DraftState) []provisions.Listed {
	staged := st.Staged()
	if len(staged) == 0 {
		return o.current()
	}
	ops := make([]ot.Op, len(staged))
	for i, op := range staged {
		ops[i] = op.Op
	}
	return o.reg.ListAfter(ops, st.Text().String(), o.locksAfter(staged))
}

// current returns the listing at the register's revision (in the owner
// goroutine: for a BuildFunc), cached.
func (o *provisionsObserver) current() []provisions.Listed {
	if l := o.cached(o.reg.Rev()); l != nil {
		return l
	}
	l := o.reg.List()
	o.keep(o.reg.Rev(), l)
	return l
}

func (o *provisionsObserver) cached(rev int) []provisions.Listed {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.listRev == rev {
		return o.list
	}
	return nil
}

// keep caches the listing of rev unless a later one is cached.
func (o *provisionsObserver) keep(rev int, l []provisions.Listed) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if rev >= o.listRev {
		o.listRev, o.list = rev, l
	}
}

// provisionsOf returns the draft's provisions observer.
func provisionsOf(st *DraftState) (*provisionsObserver, error) {
	return observerOf[*provisionsObserver](st, ProvisionsSection)
}

func (o *provisionsObserver) broken() error { return o.err }

// provisionsState is what the listing endpoints read, copied out of the
// owner goroutine.
type provisionsState struct {
	rev    int
	list   []provisions.Listed
	points []provisions.StatPoint
	counts provisions.Counts
}

// provisionsAt returns the listing of draft doc at rev (-1: the head): from
// the owner at the head, else rebuilt from the nearest snapshot and ops.
func (s *Server) provisionsAt(ctx context.Context, doc string, rev int) (provisionsState, error) {
	var (
		out    provisionsState
		info   dr.Draft
		atHead bool
		copied *provisions.Register
		obs    *provisionsObserver
	)
	err := s.Do(ctx, doc, func(st *DraftState) error {
		o, err := provisionsOf(st)
		if err != nil {
			return err
		}
		cur := st.Rev()
		if rev, err = listedRev(st, doc, rev); err != nil {
			return err
		}
		info = st.Info()
		if atHead = rev == cur; atHead {
			// A cached listing is replaced, never modified: safe to read
			// after the owner moves on. Else the listing is made from a
			// copy, off the owner goroutine (a 2,000-paragraph treaty
			// takes a millisecond or two; the copy a tenth of that).
			out = provisionsState{rev: cur, list: o.cached(cur), points: o.reg.Points(), counts: o.reg.Counts()}
			if out.list == nil {
				copied, obs = o.reg.Copy(), o
			}
		}
		return nil
	})
	if err != nil {
		return provisionsState{}, err
	}
	if copied != nil {
		out.list = copied.List()
		obs.keep(out.rev, out.list)
	}
	if atHead {
		return out, nil
	}
	o, err := s.provisionsReplay(ctx, info, rev)
	if err != nil {
		return provisionsState{}, err
	}
	return provisionsState{rev: rev, list: o.reg.List(), points: o.reg.Points(), counts: o.reg.Counts()}, nil
}

// provisionsReplay rebuilds the observer at rev (observerAt: from the
// nearest snapshot that has its section, or revision 0, and the ops after
// it).
func (s *Server) provisionsReplay(ctx context.Context, info dr.Draft, rev int) (*provisionsObserver, error) {
	snap, err := s.store.Snapshot(ctx, info.ID, rev)
	if err != nil {
		return nil, fmt.Errorf("provisions of %s@%d: snapshot: %w", info.ID, rev, err)
	}
	obs, _, _, err := observerAt(ctx, s.store, info, ProvisionsSection, func(d dr.Draft, snap dr.Snapshot) (Observer, error) {
		return restoreProvisions(d, snap)
	}, snap, rev)
	if err != nil {
		return nil, err
	}
	o := obs.(*provisionsObserver)
	if o.err != nil {
		return nil, fmt.Errorf("provisions of %s@%d: %w", info.ID, rev, o.err)
	}
	if o.reg.Rev() != rev {
		return nil, fmt.Errorf("provisions of %s@%d: op log ends at %d", info.ID, rev, o.reg.Rev())
	}
	return o, nil
}
