package brackets

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/ot"
)

func TestIDString(t *testing.T) {
	for _, tt := range []struct {
		s  string
		id ID
	}{{"b0.0", ID{0, 0}}, {"b12.3", ID{12, 3}}, {"b1000000.99999", ID{1000000, 99999}}} {
		if got := tt.id.String(); got != tt.s {
			t.Errorf("%v.String() = %q, want %q", tt.id, got, tt.s)
		}
		got, err := ParseID(tt.s)
		if err != nil || got != tt.id {
			t.Errorf("ParseID(%q) = %v, %v; want %v", tt.s, got, err, tt.id)
		}
	}
	for _, bad := range []string{"", "b", "b1", "b1.", "b.1", "c1.2", "b01.2", "b1.02", "b-1.2", "b1.2.3", "B1.2", "b1.2x", "b99999999999999999999.1"} {
		if _, err := ParseID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) error %v, want ErrBadID", bad, err)
		}
	}
}

func TestTrackerInitial(t *testing.T) {
	text := "中 [a] [b/c] \\[d"
	tr := NewTracker(text)
	pos, ids := tr.Positions()
	if !slices.Equal(pos, []int{2, 6, 13}) {
		t.Fatalf("positions %v, want [2 6 13]", pos)
	}
	for i, p := range pos {
		if ids[i] != (ID{0, p}) {
			t.Errorf("id of '[' at %d is %v, want b0.%d", p, ids[i], p)
		}
	}
	if tr.Len() != 15 || tr.Rev() != 0 || tr.ID(6) != "b0.6" || tr.ID(7) != "" {
		t.Errorf("Len %d Rev %d ID(6) %q ID(7) %q", tr.Len(), tr.Rev(), tr.ID(6), tr.ID(7))
	}
	res, err := List(text, tr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range res.Groups {
		got = append(got, g.ID)
	}
	if !slices.Equal(got, []string{"b0.2", "b0.6"}) {
		t.Errorf("group ids %q, want [b0.2 b0.6]", got)
	}
}

// edit is one committed op in a scripted session.
func commit(t *testing.T, text *string, tr *Tracker, op ot.Op) {
	t.Helper()
	next, err := applyOp(*text, op)
	if err != nil {
		t.Fatalf("apply %v: %v", op, err)
	}
	if err := tr.Apply(op, tr.Rev()+1); err != nil {
		t.Fatalf("tracker apply %v: %v", op, err)
	}
	*text = next
	if err := tr.Check(next); err != nil {
		t.Fatalf("after %v: %v", op, err)
	}
}

func groupIDs(t *testing.T, text string, tr *Tracker) map[string]string {
	t.Helper()
	res, err := List(text, tr)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range res.Groups {
		out[g.ID] = runes(text, g.Start, g.End)
	}
	return out
}

func TestTrackerIDsStableWhileTyping(t *testing.T) {
	text := "Parties [shall/may] adopt [measures]."
	tr := NewTracker(text)
	before := groupIDs(t, text, tr)
	if before["b0.8"] != "[shall/may]" || before["b0.26"] != "[measures]" {
		t.Fatalf("initial ids %v", before)
	}
	// Type before, inside and between the groups, delete around them.
	commit(t, &text, tr, ot.Op{{Insert: "States "}})                                        // rev 1
	commit(t, &text, tr, ot.Op{{Skip: 25}, {Insert: "/should"}})                            // rev 2: inside
	commit(t, &text, tr, ot.Op{{Skip: 34}, {Delete: 6, Deleted: "adopt "}})                 // rev 3
	commit(t, &text, tr, ot.Op{{Skip: 34}, {Insert: "take "}, {Skip: 1}, {Insert: "all "}}) // rev 4
	if text != "States Parties [shall/may/should] take [all measures]." {
		t.Fatalf("text %q", text)
	}
	after := groupIDs(t, text, tr)
	if after["b0.8"] != "[shall/may/should]" || after["b0.26"] != "[all measures]" || len(after) != 2 {
		t.Errorf("ids after typing %v", after)
	}
	// A new group gets the id of the op that inserted its '['.
	commit(t, &text, tr, ot.Op{{Skip: 7}, {Insert: "[All] "}}) // rev 5
	if got := groupIDs(t, text, tr)["b5.0"]; got != "[All]" {
		t.Errorf("new group b5.0 = %q, ids %v", got, groupIDs(t, text, tr))
	}
	// k counts all the op's inserts: the second insert's '[' is at k=4.
	commit(t, &text, tr, ot.Op{{Insert: "ab"}, {Skip: 3}, {Insert: "cd[e]"}}) // rev 6
	if got := groupIDs(t, text, tr)["b6.4"]; got != "[e]" {
		t.Errorf("group b6.4 = %q, ids %v", got, groupIDs(t, text, tr))
	}
	// Deleting a group's first bracket of two hands the id to the second.
	text2 := "[a] or [b]"
	tr2 := NewTracker(text2)
	commit(t, &text2, tr2, ot.Op{{Delete: 7}})
	if ids := groupIDs(t, text2, tr2); ids["b0.7"] != "[b]" || len(ids) != 1 {
		t.Errorf("after deleting the first bracket: %v", ids)
	}
}

func TestTrackerMatchesModel(t *testing.T) {
	// Deterministic pseudo-random sessions, including ops with many edits
	// (the bulk path) and text far larger than a block.
	seed := uint64(1)
	rnd := func() byte {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return byte(seed)
	}
	for session := 0; session < 20; session++ {
		text := strings.Repeat("ab [c/d] e ", 40*session)
		tr := NewTracker(text)
		m := newModel(text)
		for rev := 1; rev <= 200; rev++ {
			b := make([]byte, 64)
			for i := range b {
				b[i] = rnd()
			}
			op := randomOp(&byteSource{b: b}, tr.Len())
			m.apply(op, rev)
			if err := tr.Apply(op, rev); err != nil {
				t.Fatalf("session %d rev %d: %v", session, rev, err)
			}
			sameTracker(t, tr, m, "after op")
		}
	}
}

func TestTrackerSameOpsSameIDs(t *testing.T) {
	text := strings.Repeat("x [a/b] or [c] y ", 100)
	a, b := NewTracker(text), NewTracker(text)
	src := &byteSource{b: []byte(strings.Repeat("the quick brown fox jumps over the lazy dog", 30))}
	for rev := 1; !src.done(); rev++ {
		op := randomOp(src, a.Len())
		if err := a.Apply(op, rev); err != nil {
			t.Fatal(err)
		}
		if err := b.Apply(op, rev); err != nil {
			t.Fatal(err)
		}
		// b goes through a save and restore half way.
		if rev == 20 {
			data, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			b = &Tracker{}
			if err := json.Unmarshal(data, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	pa, ia := a.Positions()
	pb, ib := b.Positions()
	if !slices.Equal(pa, pb) || !slices.Equal(ia, ib) || a.Len() != b.Len() || a.Rev() != b.Rev() {
		t.Fatalf("trackers fed the same ops differ")
	}
	if a.Rev() < 20 || a.Count() == 0 {
		t.Fatalf("test did too little: rev %d, %d brackets", a.Rev(), a.Count())
	}
}

func TestTrackerApplyErrors(t *testing.T) {
	tr := NewTracker("ab[c]")
	tests := []struct {
		name string
		op   ot.Op
		rev  int
		want error
	}{
		{"revision gap", ot.Op{{Insert: "x"}}, 2, ErrRevision},
		{"revision replay", ot.Op{{Insert: "x"}}, 0, ErrRevision},
		{"skip past end", ot.Op{{Skip: 6}}, 1, ErrOp},
		{"delete past end", ot.Op{{Skip: 2}, {Delete: 4}}, 1, ErrOp},
		{"huge skip", ot.Op{{Skip: 1}, {Skip: int(^uint(0) >> 1)}}, 1, ErrOp},
		{"empty component", ot.Op{{}}, 1, ErrOp},
		{"two fields", ot.Op{{Skip: 1, Insert: "x"}}, 1, ErrOp},
		{"negative", ot.Op{{Skip: -1}}, 1, ErrOp},
	}
	for _, tt := range tests {
		if err := tr.Apply(tt.op, tt.rev); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
		if tr.Rev() != 0 || tr.Len() != 5 || tr.ID(2) != "b0.2" || tr.Count() != 1 {
			t.Fatalf("%s: tracker changed by a failed Apply", tt.name)
		}
	}
}

func TestTrackerIdentifyOutOfSync(t *testing.T) {
	tr := NewTracker("[a] [b]")
	if _, err := List("[a] [c]x", tr); !errors.Is(err, ErrOutOfSync) {
		t.Errorf("other length: %v, want ErrOutOfSync", err)
	}
	if _, err := List("x[a] [b", tr); !errors.Is(err, ErrOutOfSync) {
		t.Errorf("other positions: %v, want ErrOutOfSync", err)
	}
	if err := tr.Check("[a] [b]x"); !errors.Is(err, ErrOutOfSync) {
		t.Errorf("Check other length: %v", err)
	}
	if err := tr.Check("a[] [b]"); !errors.Is(err, ErrOutOfSync) {
		t.Errorf("Check other positions: %v", err)
	}
	if err := tr.Check("[x] [y]"); err != nil {
		t.Errorf("Check same positions: %v", err)
	}
}

func TestTrackerJSON(t *testing.T) {
	text := strings.Repeat("[a] 中 [b/c] ", 300)
	tr := NewTracker(text)
	if err := tr.Apply(ot.Op{{Skip: 5}, {Insert: "[new]"}}, 1); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var back Tracker
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	p1, i1 := tr.Positions()
	p2, i2 := back.Positions()
	if !slices.Equal(p1, p2) || !slices.Equal(i1, i2) || back.Rev() != 1 || back.Len() != tr.Len() {
		t.Fatalf("round trip differs")
	}
	if back.ID(5) != "b1.0" {
		t.Errorf("restored ID(5) = %q, want b1.0", back.ID(5))
	}
	for _, bad := range []string{
		`nope`, `{"v":2,"rev":0,"len":3,"gaps":[],"revs":[],"ks":[]}`,
		`{"v":1,"rev":0,"len":3,"gaps":[1],"revs":[],"ks":[]}`,
		`{"v":1,"rev":0,"len":3,"gaps":[3],"revs":[0],"ks":[3]}`,
		`{"v":1,"rev":0,"len":3,"gaps":[1,0],"revs":[0,0],"ks":[1,1]}`,
		`{"v":1,"rev":0,"len":3,"gaps":[-1],"revs":[0],"ks":[0]}`,
		`{"v":1,"rev":0,"len":3,"gaps":[1],"revs":[1],"ks":[0]}`,
		`{"v":1,"rev":0,"len":3,"gaps":[1],"revs":[0],"ks":[-2]}`,
		`{"v":1,"rev":-1,"len":3,"gaps":[],"revs":[],"ks":[]}`,
	} {
		keep := back.Clone()
		if err := back.UnmarshalJSON([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("UnmarshalJSON(%s) error %v, want ErrCorrupt", bad, err)
		}
		p, _ := back.Positions()
		q, _ := keep.Positions()
		if !slices.Equal(p, q) || back.Rev() != keep.Rev() {
			t.Fatalf("failed UnmarshalJSON changed the tracker")
		}
	}
}

func TestTrackerClone(t *testing.T) {
	tr := NewTracker("[a] [b]")
	c := tr.Clone()
	if err := c.Apply(ot.Op{{Delete: 4}}, 1); err != nil {
		t.Fatal(err)
	}
	if tr.ID(0) != "b0.0" || tr.Rev() != 0 || c.ID(0) != "b0.4" {
		t.Errorf("clone shares state: original ID(0) %q rev %d, clone ID(0) %q", tr.ID(0), tr.Rev(), c.ID(0))
	}
}

func FuzzTracker(f *testing.F) {
	f.Add("[a] [b/c]", []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add("", []byte{0, 0, 1, 9, 200, 3})
	f.Add(strings.Repeat("x [a] ", 200), []byte("the quick brown fox jumps over the lazy dog"))
	f.Add("中[文]😀", []byte{8, 8, 8, 8, 8, 8, 8, 8, 8, 8})
	f.Fuzz(func(t *testing.T, text string, script []byte) {
		tr := NewTracker(text)
		m := newModel(text)
		src := &byteSource{b: script}
		for rev := 1; !src.done(); rev++ {
			op := randomOp(src, tr.Len())
			m.apply(op, rev)
			if err := tr.Apply(op, rev); err != nil {
				t.Fatalf("rev %d %v: %v", rev, op, err)
			}
			sameTracker(t, tr, m, "after op")
		}
	})
}

func TestTrackerPasteAndCut(t *testing.T) {
	// A paste of many brackets into one block splits it; cutting most of
	// them merges what is left; both against the model.
	text := strings.Repeat("[a] b ", 300)
	tr := NewTracker(text)
	m := newModel(text)
	steps := []ot.Op{
		{{Skip: 600}, {Insert: strings.Repeat("[x]", 1000)}},
		{{Skip: 10}, {Delete: 3500}},
		{{Skip: 3}, {Insert: strings.Repeat("中[", 500)}, {Skip: 5}, {Delete: 2}, {Insert: "[[["}},
		{{Delete: 50}, {Skip: 20}, {Delete: 700}},
	}
	for i, op := range steps {
		m.apply(op, i+1)
		if err := tr.Apply(op, i+1); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		sameTracker(t, tr, m, "step")
		if len(tr.blocks) > tr.Count()/blockMin+2 {
			t.Errorf("step %d: %d blocks for %d brackets", i, len(tr.blocks), tr.Count())
		}
	}
}
