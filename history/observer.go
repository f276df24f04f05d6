package history

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Observer keeps a draft's Authorship up to date on the server's commit
// path, which cannot fail: it has the method set of the server's observer
// contract (Apply without an error, Meta for the snapshot section), so the
// server lists it among every draft's observers (server/routes.go,
// observers()), built from a snapshot with NewObserver.
//
// An op that does not fit (which would mean the server and the authorship
// disagree about the text) breaks the Observer: Err reports it, Meta stops
// persisting, and Authorship returns the error, so that a wrong
// attribution is never shown or stored. Like Authorship, an Observer is
// used by one goroutine at a time.
type Observer struct {
	a   *Authorship
	err error
}

// NewObserver starts an Observer from a snapshot: from its MetaSection when
// it has one (see FromSnapshot), else from its text alone, all of it
// attributed to revision 0 as the initial text (a snapshot at revision 0,
// or a draft that predates authorship). A section that is corrupt or does
// not describe the snapshot returns an error wrapping ErrCorrupt.
func NewObserver(snap dr.Snapshot) (*Observer, error) {
	a, ok, err := FromSnapshot(snap)
	if err != nil {
		return nil, err
	}
	if !ok {
		a = New(utf8.RuneCountInString(snap.Text))
		a.rev = snap.Rev
	}
	return &Observer{a: a}, nil
}

// Apply records committed op rev by author (see Authorship.Apply).
func (o *Observer) Apply(op ot.Op, rev int, author dr.Author) {
	if o.err != nil {
		return
	}
	if err := o.a.Apply(op, rev, author); err != nil {
		o.err = fmt.Errorf("history: authorship broken at revision %d: %w", rev, err)
	}
}

// Meta returns MetaSection and the encoded Authorship, or "" and nil when
// the Observer is broken.
func (o *Observer) Meta() (name string, data json.RawMessage) {
	if o.err != nil {
		return "", nil
	}
	data, err := o.a.Marshal()
	if err != nil {
		o.err = err
		return "", nil
	}
	return MetaSection, data
}

// Authorship returns the live Authorship (the caller must not change it,
// and must not keep it past its turn on the owner goroutine; Clone it for
// that), or the error that broke the Observer.
func (o *Observer) Authorship() (*Authorship, error) {
	if o.err != nil {
		return nil, o.err
	}
	return o.a, nil
}

// Err returns the error that broke the Observer, or nil.
func (o *Observer) Err() error { return o.err }
