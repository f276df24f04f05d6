package history

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// serverObserver is the server's Observer contract (server/observer.go),
// restated here because history cannot import server.
type serverObserver interface {
	Apply(op ot.Op, rev int, by dr.Author)
	Meta() (name string, data json.RawMessage)
}

var _ serverObserver = (*Observer)(nil)

// TestObserver is the server's life cycle: start at revision 0, commit,
// snapshot, restart from the snapshot, commit more; then an op that does
// not fit breaks it for good.
func TestObserver(t *testing.T) {
	o, err := NewObserver(dr.Snapshot{Rev: 0, Text: "Art. 1"})
	if err != nil {
		t.Fatal(err)
	}
	o.Apply(ot.Op{{Skip: 6}, {Insert: " shall"}}, 1, ana)
	name, data := o.Meta()
	if name != MetaSection || data == nil {
		t.Fatalf("Meta = %q, %d bytes", name, len(data))
	}
	// Restart from a snapshot at revision 1 that carries the section.
	o2, err := NewObserver(dr.Snapshot{Rev: 1, Text: "Art. 1 shall", Meta: map[string]json.RawMessage{name: data}})
	if err != nil {
		t.Fatal(err)
	}
	for _, obs := range []*Observer{o, o2} {
		obs.Apply(ot.Op{{Skip: 12}, {Insert: " apply"}}, 2, ben)
	}
	a1, err1 := o.Authorship()
	a2, err2 := o2.Authorship()
	if err1 != nil || err2 != nil || !reflect.DeepEqual(a1.Spans(), a2.Spans()) || len(a1.Spans()) != 3 {
		t.Fatalf("live and restarted observers differ: %+v / %+v (%v, %v)", a1.Spans(), a2.Spans(), err1, err2)
	}
	// A later snapshot without the section: the text alone, as initial.
	o3, err := NewObserver(dr.Snapshot{Rev: 9, Text: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := o3.Authorship(); a.Rev() != 9 || a.Len() != 3 || len(a.Spans()) != 1 {
		t.Fatalf("observer from a bare snapshot: rev %d, spans %+v", a.Rev(), a.Spans())
	}
	// A corrupt section is an error.
	if _, err := NewObserver(dr.Snapshot{Rev: 1, Text: "abc", Meta: map[string]json.RawMessage{MetaSection: json.RawMessage(`{}`)}}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt section: %v", err)
	}
	// An op past the end breaks the observer: no more Meta, no Authorship.
	o.Apply(ot.Op{{Skip: 100}, {Insert: "x"}}, 3, chi)
	if !errors.Is(o.Err(), ErrOpPastEnd) {
		t.Fatalf("Err = %v", o.Err())
	}
	if name, data := o.Meta(); name != "" || data != nil {
		t.Fatal("a broken observer still persists its state")
	}
	if a, err := o.Authorship(); a != nil || !errors.Is(err, ErrOpPastEnd) {
		t.Fatalf("Authorship of a broken observer: %v, %v", a, err)
	}
	o.Apply(ot.Op{{Insert: "y"}}, 4, chi) // ignored once broken
	if !errors.Is(o.Err(), ErrOpPastEnd) {
		t.Fatalf("Err after more ops = %v", o.Err())
	}
}
