package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Observer is per-draft state derived from the op log (authorship, bracket
// identities, provisions), kept up to date by the draft's owner goroutine:
// ApplyOp is called with every committed op in revision order, never
// concurrently, with text the draft's text as that op left it (the owner's
// own text: observers keep no copy, and must not keep a reference past the
// call). ApplyOp must be quick (it runs on the commit path) and must not
// fail: the op is already committed.
type Observer interface {
	ApplyOp(op dr.Op, text *ot.Text)
	// Meta returns the section the observer persists with snapshots
	// (name is the name it was registered under) or nil data for none.
	Meta() (name string, data json.RawMessage)
}

// ObserverFactory builds a draft's observer from a snapshot: snap.Text at
// snap.Rev, and snap.Meta[name] when the snapshot has the observer's section
// (otherwise the factory starts from the text alone, as at revision 0).
// The server then applies the ops after snap.Rev.
type ObserverFactory func(d dr.Draft, snap dr.Snapshot) (Observer, error)

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

// observerAt rebuilds the observer named name of draft info at revision
// rev: from the nearest snapshot at or before snap (a snapshot already
// read, at or before rev) that has the observer's section (or revision 0),
// replaying the ops after it with a text of its own. It returns the observer and the text at rev (nil when no op was
// replayed: the text is the base snapshot's, returned as base).
func observerAt(ctx context.Context, store dr.Store, info dr.Draft, name string, f ObserverFactory,
	snap dr.Snapshot, rev int) (obs Observer, text *ot.Text, base dr.Snapshot, err error) {
	base = snap
	for {
		if _, ok := base.Meta[name]; ok || base.Rev == 0 {
			break
		}
		if base, err = store.Snapshot(ctx, info.ID, base.Rev-1); err != nil {
			return nil, nil, base, fmt.Errorf("%s of %s@%d: snapshot: %w", name, info.ID, rev, err)
		}
	}
	var replay []dr.Op
	if base.Rev < rev {
		if replay, err = store.Ops(ctx, info.ID, base.Rev+1, rev); err != nil {
			return nil, nil, base, fmt.Errorf("%s of %s@%d: ops: %w", name, info.ID, rev, err)
		}
	}
	if obs, err = f(info, base); err != nil {
		return nil, nil, base, fmt.Errorf("%s of %s@%d: %w", name, info.ID, rev, err)
	}
	at := base.Rev
	for _, op := range replay {
		if op.Rev > rev {
			break
		}
		if op.Rev != at+1 {
			return nil, nil, base, fmt.Errorf("%s of %s@%d: op log has rev %d after %d", name, info.ID, rev, op.Rev, at)
		}
		if text == nil {
			text = ot.NewText(base.Text)
		}
		if _, err := text.Apply(op.Op); err != nil {
			return nil, nil, base, fmt.Errorf("%s of %s@%d: op %d does not apply: %w", name, info.ID, rev, op.Rev, err)
		}
		obs.ApplyOp(op, text)
		at = op.Rev
	}
	if at != rev {
		return nil, nil, base, fmt.Errorf("%s of %s@%d: op log ends at %d", name, info.ID, rev, at)
	}
	return obs, text, base, nil
}

// loadObservers builds every observer of the server (routes.go) for a
// draft whose latest snapshot is snap, with the log ending at head. An
// observer whose section snap has (or snap is revision 0) starts from snap
// and is returned in fresh: the caller feeds it the ops after snap as it
// applies them to the owner's text. Any other is rebuilt at head by
// observerAt, from an older snapshot, on a text of its own that is dropped
// once it is at head.
func (d *draft) loadObservers(ctx context.Context, snap dr.Snapshot, head int) (fresh []Observer, err error) {
	d.observers = nil
	for _, nf := range d.s.observers {
		var obs Observer
		if _, ok := snap.Meta[nf.name]; ok || snap.Rev == 0 {
			if obs, err = nf.f(d.info, snap); err != nil {
				return nil, fmt.Errorf("load %s observer %s: %w", d.id, nf.name, err)
			}
			fresh = append(fresh, obs)
		} else if obs, _, _, err = observerAt(ctx, d.s.store, d.info, nf.name, nf.f, snap, head); err != nil {
			return nil, fmt.Errorf("load %s observer: %w", d.id, err)
		}
		d.observers = append(d.observers, namedObserver{nf.name, obs})
	}
	return fresh, nil
}
