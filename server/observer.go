package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// Observer is per-draft state derived from the op log (authorship, bracket
// identities), kept up to date by the draft's owner goroutine: Apply is
// called with every committed op in revision order, never concurrently.
// Apply must be quick (it runs on the commit path) and must not fail: the op
// is already committed.
type Observer interface {
	Apply(op ot.Op, rev int, by storage.Author)
	// Meta returns the section the observer persists with snapshots
	// (name is the name it was registered under) or nil data for none.
	Meta() (name string, data json.RawMessage)
}

// OpObserver is an Observer that wants each committed op whole (its commit
// time, kind and group, not only the op and author): the server calls
// ApplyOp instead of Apply, with the same guarantees (revision order, never
// concurrently, must be quick and must not fail).
type OpObserver interface {
	Observer
	ApplyOp(op storage.Op)
}

// applyObserver feeds one committed op to obs.
func applyObserver(obs Observer, op storage.Op) {
	if oo, ok := obs.(OpObserver); ok {
		oo.ApplyOp(op)
		return
	}
	obs.Apply(op.Op, op.Rev, op.By)
}

// ObserverFactory builds a draft's observer from a snapshot: snap.Text at
// snap.Rev, and snap.Meta[name] when the snapshot has the observer's section
// (otherwise the factory starts from the text alone, as at revision 0).
// The server then applies the ops after snap.Rev.
type ObserverFactory func(d storage.Draft, snap storage.Snapshot) (Observer, error)

type namedObserver struct {
	name string
	obs  Observer
}

// namedFactory is an observer's factory and the snapshot Meta section it
// owns (name); routes.go lists them.
type namedFactory struct {
	name string
	f    ObserverFactory
}

// loadObservers builds every observer of the server (routes.go) for a draft whose latest
// snapshot is snap, with ops the ops after it (already applied to the
// text). An observer whose section is missing from snap is rebuilt from the
// nearest older snapshot that has it (or revision 0) by replaying ops.
func (d *draft) loadObservers(ctx context.Context, snap storage.Snapshot, ops []storage.Op) error {
	d.observers = nil
	for _, nf := range d.s.observers {
		base := snap
		replay := ops
		for {
			if _, ok := base.Meta[nf.name]; ok || base.Rev == 0 {
				break
			}
			older, err := d.s.store.Snapshot(ctx, d.id, base.Rev-1)
			if err != nil {
				return fmt.Errorf("load %s observer %s: %w", d.id, nf.name, err)
			}
			base = older
		}
		if base.Rev != snap.Rev {
			more, err := d.s.store.Ops(ctx, d.id, base.Rev+1, math.MaxInt32)
			if err != nil {
				return fmt.Errorf("load %s observer %s: %w", d.id, nf.name, err)
			}
			replay = more
		}
		obs, err := nf.f(d.info, base)
		if err != nil {
			return fmt.Errorf("load %s observer %s: %w", d.id, nf.name, err)
		}
		for _, op := range replay {
			if op.Rev > d.rev {
				break
			}
			applyObserver(obs, op)
		}
		d.observers = append(d.observers, namedObserver{nf.name, obs})
	}
	return nil
}
