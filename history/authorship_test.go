package history

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

var (
	ana = dr.Author{Delegation: "CAN", Name: "Ana"}
	ben = dr.Author{Delegation: "USA", Name: "Ben"}
	chi = dr.Author{Delegation: "CHN", Name: "Chi"}
)

// naiveAuthorship is the model: one (rev, author) per code point.
type naiveAuthorship struct {
	revs    []int
	authors []dr.Author
}

func (m *naiveAuthorship) apply(op ot.Op, rev int, by dr.Author) {
	pos := 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			pos += c.Skip
		case c.Insert != "":
			n := utf8.RuneCountInString(c.Insert)
			for i := 0; i < n; i++ {
				m.revs = slices.Insert(m.revs, pos+i, rev)
				m.authors = slices.Insert(m.authors, pos+i, by)
			}
			pos += n
		case c.Delete > 0:
			m.revs = slices.Delete(m.revs, pos, pos+c.Delete)
			m.authors = slices.Delete(m.authors, pos, pos+c.Delete)
		}
	}
}

func (m *naiveAuthorship) spans() []Span {
	spans := []Span{}
	for i, rev := range m.revs {
		by := m.authors[i]
		if k := len(spans) - 1; k >= 0 && spans[k].Rev == rev && spans[k].Delegation == by.Delegation && spans[k].Name == by.Name {
			spans[k].End++
			continue
		}
		spans = append(spans, Span{Start: i, End: i + 1, Rev: rev, Delegation: by.Delegation, Name: by.Name})
	}
	return spans
}

// insertAt returns the op inserting s at pos.
func insertAt(pos int, s string) ot.Op {
	if pos == 0 {
		return ot.Op{{Insert: s}}
	}
	return ot.Op{{Skip: pos}, {Insert: s}}
}

// authorSpans merges the model's code points by author alone.
func (m *naiveAuthorship) authorSpans() []Span {
	spans := []Span{}
	for i, rev := range m.revs {
		by := m.authors[i]
		if k := len(spans) - 1; k >= 0 && spans[k].Delegation == by.Delegation && spans[k].Name == by.Name {
			spans[k].End++
			spans[k].Rev = max(spans[k].Rev, rev)
			continue
		}
		spans = append(spans, Span{Start: i, End: i + 1, Rev: rev, Delegation: by.Delegation, Name: by.Name})
	}
	return spans
}

// checkTiling fails unless spans tile [0, n) with no two equal neighbours.
func checkTiling(t testing.TB, spans []Span, n int) {
	t.Helper()
	pos := 0
	for i, s := range spans {
		if s.Start != pos || s.End <= s.Start {
			t.Fatalf("span %d = %+v, want start %d and a positive length", i, s, pos)
		}
		if i > 0 && spans[i-1].Rev == s.Rev && spans[i-1].Delegation == s.Delegation && spans[i-1].Name == s.Name {
			t.Fatalf("spans %d and %d have the same writer: %+v %+v", i-1, i, spans[i-1], s)
		}
		pos = s.End
	}
	if pos != n {
		t.Fatalf("spans end at %d, text length %d", pos, n)
	}
}

// textOf returns the code points [s.Start, s.End) of text.
func textOf(text string, s Span) string {
	r := []rune(text)
	return string(r[s.Start:s.End])
}

func TestAuthorshipKnownAuthors(t *testing.T) {
	initial := "The Parties shall cooperate."
	doc := newGapText(initial)
	a := New(utf8.RuneCountInString(initial))
	steps := []struct {
		op  ot.Op
		by  dr.Author
		rev int
	}{
		// "The Parties shall cooperate." -> "The Parties shall fully cooperate."
		{ot.Op{{Skip: 18}, {Insert: "fully "}}, ana, 1},
		// Ben replaces "shall" with "may 🙂" (an astral emoji counts as one).
		{ot.Op{{Skip: 12}, {Delete: 5}, {Insert: "may 🙂"}}, ben, 2},
		// Chi deletes across the boundary of Ana's and Ben's text and the
		// initial text: "🙂 fully co" -> "" then types "[x]".
		{ot.Op{{Skip: 16}, {Delete: 10}, {Insert: "[x]"}}, chi, 3},
	}
	for _, s := range steps {
		if err := a.Apply(s.op, s.rev, s.by); err != nil {
			t.Fatalf("rev %d: %v", s.rev, err)
		}
		doc.apply(s.op)
	}
	text := doc.String()
	if want := "The Parties may [x]operate."; text != want {
		t.Fatalf("test text = %q, want %q", text, want)
	}
	spans := a.Spans()
	checkTiling(t, spans, a.Len())
	type got struct {
		Text, Delegation string
		Rev              int
	}
	var gotSpans []got
	for _, s := range spans {
		gotSpans = append(gotSpans, got{textOf(text, s), s.Delegation, s.Rev})
	}
	want := []got{
		{"The Parties ", "", 0},
		{"may ", "USA", 2},
		{"[x]", "CHN", 3},
		{"operate.", "", 0},
	}
	if !reflect.DeepEqual(gotSpans, want) {
		t.Fatalf("spans:\n got %+v\nwant %+v", gotSpans, want)
	}
}

func TestAuthorshipTypingMergesRuns(t *testing.T) {
	a := New(0)
	// Ana types "hello" one key per op, each op its own revision: five
	// spans; Ben's one op that pastes text is one span.
	for i, ch := range "hello" {
		if err := a.Apply(insertAt(i, string(ch)), i+1, ana); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Apply(ot.Op{{Skip: 2}, {Insert: "XYZ"}}, 6, ben); err != nil {
		t.Fatal(err)
	}
	spans := a.Spans()
	checkTiling(t, spans, 8)
	if len(spans) != 6 {
		t.Fatalf("got %d spans %+v, want 6 (h, e, XYZ, l, l, o)", len(spans), spans)
	}
	if s := spans[2]; s.Start != 2 || s.End != 5 || s.Rev != 6 || s.Name != "Ben" {
		t.Fatalf("span 2 = %+v, want Ben's rev 6 at [2,5)", s)
	}
	// By author: "he" (Ana, last rev 2), "XYZ" (Ben), "llo" (Ana, rev 5).
	byAuthor := a.AuthorSpans()
	want := []Span{
		{Start: 0, End: 2, Rev: 2, Delegation: "CAN", Name: "Ana"},
		{Start: 2, End: 5, Rev: 6, Delegation: "USA", Name: "Ben"},
		{Start: 5, End: 8, Rev: 5, Delegation: "CAN", Name: "Ana"},
	}
	if !reflect.DeepEqual(byAuthor, want) {
		t.Fatalf("AuthorSpans = %+v, want %+v", byAuthor, want)
	}
	// The same revision inserting twice next to itself stays one span.
	b := New(0)
	if err := b.Apply(ot.Op{{Insert: "ab"}, {Insert: "cd"}}, 1, ana); err != nil {
		t.Fatal(err)
	}
	if got := b.Spans(); len(got) != 1 || got[0].End != 4 {
		t.Fatalf("spans = %+v, want one [0,4)", got)
	}
}

func TestAuthorshipApplyErrors(t *testing.T) {
	tests := []struct {
		name string
		op   ot.Op
		want error
	}{
		{"skip past end", ot.Op{{Skip: 11}}, ErrOpPastEnd},
		{"delete past end", ot.Op{{Skip: 8}, {Delete: 3}}, ErrOpPastEnd},
		{"insert then delete past end", ot.Op{{Insert: "x"}, {Delete: 11}}, ErrOpPastEnd},
		{"empty component", ot.Op{{}}, ErrBadOp},
		{"two kinds", ot.Op{{Skip: 1, Insert: "x"}}, ErrBadOp},
		{"negative skip", ot.Op{{Skip: -1}}, ErrBadOp},
		{"negative delete", ot.Op{{Delete: -2}}, ErrBadOp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(10)
			before := a.Spans()
			err := a.Apply(tt.op, 1, ana)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Apply(%v) = %v, want %v", tt.op, err, tt.want)
			}
			if after := a.Spans(); !reflect.DeepEqual(before, after) || a.Len() != 10 {
				t.Fatalf("a failed Apply changed the state: %+v -> %+v", before, after)
			}
		})
	}
	// An op that exactly covers the text, with or without a trailing skip.
	a := New(10)
	if err := a.Apply(ot.Op{{Skip: 4}, {Delete: 6}}, 1, ana); err != nil || a.Len() != 4 {
		t.Fatalf("exact-fit delete: err %v, len %d", err, a.Len())
	}
}

// randomOp returns a random op on a text of n code points, with emoji and
// astral characters among the inserts, and its inserted text length.
func randomOp(rng *rand.Rand, n int) ot.Op {
	alphabet := []string{"a", "b", "é", "😭", "𝔸", " ", "\n", "[", "]", "汉"}
	var op ot.Op
	pos := 0
	for parts := 1 + rng.IntN(3); parts > 0; parts-- {
		if pos < n && rng.IntN(3) == 0 {
			k := 1 + rng.IntN(n-pos)
			op = append(op, ot.Component{Skip: k})
			pos += k
		}
		if pos < n && rng.IntN(2) == 0 {
			k := 1 + rng.IntN(min(n-pos, 1+rng.IntN(40)))
			op = append(op, ot.Component{Delete: k})
			pos += k
		} else {
			var s string
			for k := 1 + rng.IntN(1+rng.IntN(20)); k > 0; k-- {
				s += alphabet[rng.IntN(len(alphabet))]
			}
			op = append(op, ot.Component{Insert: s})
		}
	}
	return op
}

// TestAuthorshipMatchesModel drives Authorship and the per-code-point model
// with the same random ops, long enough to build a tree of several levels
// and then delete most of it, checking Spans, Len and a Marshal round trip.
func TestAuthorshipMatchesModel(t *testing.T) {
	authors := []dr.Author{ana, ben, chi, {Delegation: "FRA", Name: "Élodie 🇫🇷"}}
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			initial := rng.IntN(50)
			a := New(initial)
			m := &naiveAuthorship{revs: make([]int, initial), authors: make([]dr.Author, initial)}
			steps := 3000
			if testing.Short() {
				steps = 500
			}
			for rev := 1; rev <= steps; rev++ {
				op := randomOp(rng, a.Len())
				// Phases: grow, then mostly delete, then grow again.
				if rev > steps/2 && rev < steps*3/4 && a.Len() > 0 {
					k := 1 + rng.IntN(min(a.Len(), 200))
					at := rng.IntN(a.Len() - k + 1)
					op = ot.Op{{Skip: at}, {Delete: k}}
					if at == 0 {
						op = op[1:]
					}
				}
				by := authors[rng.IntN(len(authors))]
				if err := a.Apply(op, rev, by); err != nil {
					t.Fatalf("rev %d: Apply(%v) on len %d: %v", rev, op, a.Len(), err)
				}
				m.apply(op, rev, by)
				if a.Len() != len(m.revs) {
					t.Fatalf("rev %d: Len %d, model %d", rev, a.Len(), len(m.revs))
				}
				if rev%97 == 0 || rev == steps {
					checkTree(t, a)
					got, want := a.Spans(), m.spans()
					checkTiling(t, got, a.Len())
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("rev %d: spans differ from the model:\n got %d spans\nwant %d spans", rev, len(got), len(want))
					}
					if got, want := a.AuthorSpans(), m.authorSpans(); !reflect.DeepEqual(got, want) {
						t.Fatalf("rev %d: author spans differ from the model:\n got %d spans\nwant %d spans", rev, len(got), len(want))
					}
					roundTrip(t, a)
				}
			}
		})
	}
}

func roundTrip(t testing.TB, a *Authorship) {
	t.Helper()
	data, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Unmarshal(data)
	if err != nil {
		t.Fatalf("Unmarshal(Marshal()) = %v", err)
	}
	if b.Len() != a.Len() || !reflect.DeepEqual(b.Spans(), a.Spans()) {
		t.Fatalf("round trip changed the spans")
	}
	// The decoded state keeps working: the same op on both gives the same.
	op := ot.Op{{Insert: "x"}}
	if err := a.Clone().Apply(op, 1<<30, ben); err != nil {
		t.Fatal(err)
	}
	ac, bc := a.Clone(), b
	_ = ac.Apply(op, 1<<30, ben)
	_ = bc.Apply(op, 1<<30, ben)
	if !reflect.DeepEqual(ac.Spans(), bc.Spans()) {
		t.Fatalf("decoded state diverges after one more op")
	}
}

func TestAuthorshipCloneIsIndependent(t *testing.T) {
	a := New(5)
	c := a.Clone()
	if err := c.Apply(ot.Op{{Skip: 2}, {Insert: "zz"}}, 1, ana); err != nil {
		t.Fatal(err)
	}
	if a.Len() != 5 || len(a.Spans()) != 1 {
		t.Fatalf("Apply on a clone changed the original: %+v", a.Spans())
	}
	if c.Len() != 7 || len(c.Spans()) != 3 {
		t.Fatalf("clone spans %+v, want 3", c.Spans())
	}
}

// deflated returns runs as the codec stores them: base64 of DEFLATE.
func deflated(t testing.TB, raw []byte) string {
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, flate.BestSpeed)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

func TestUnmarshalCorrupt(t *testing.T) {
	good, err := New(3).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(good); err != nil {
		t.Fatalf("Unmarshal(good) = %v", err)
	}
	zero := `{"delegation":"","name":""}`
	state := func(v, rev, n int, authors string, raw []byte) string {
		return fmt.Sprintf(`{"v":%d,"rev":%d,"len":%d,"authors":[%s],"runs":%q}`, v, rev, n, authors, deflated(t, raw))
	}
	// One run of 3 code points, revision 0, author 0: varints 3, 0, 0.
	run3 := []byte{3, 0, 0}
	tests := map[string]string{
		"not json":          `{`,
		"wrong version":     state(2, 0, 3, zero, run3),
		"negative rev":      state(1, -1, 3, zero, run3),
		"negative len":      state(1, 0, -3, zero, run3),
		"no authors":        state(1, 0, 3, "", run3),
		"author 0 not zero": state(1, 0, 3, `{"delegation":"X","name":""}`, run3),
		"duplicate author":  state(1, 0, 3, zero+","+zero, run3),
		"bad base64":        `{"v":1,"len":3,"authors":[` + zero + `],"runs":"!!"}`,
		"not deflate":       `{"v":1,"len":3,"authors":[` + zero + `],"runs":"AwAA"}`,
		"short runs":        state(1, 0, 4, zero, run3),
		"long runs":         state(1, 0, 2, zero, run3),
		"author range":      state(1, 0, 3, zero, []byte{3, 0, 1}),
		"zero length run":   state(1, 0, 0, zero, []byte{0, 0, 0}),
		"run rev below 0":   state(1, 0, 3, zero, []byte{3, 1, 0}), // zigzag 1 is -1
		"truncated varint":  state(1, 0, 3, zero, []byte{0x80}),
		"inflates too far":  state(1, 0, 3, zero, bytes.Repeat([]byte{1, 0, 0}, 1000)),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Unmarshal([]byte(data)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Unmarshal(%s) = %v, want ErrCorrupt", data, err)
			}
		})
	}
	// The same helper builds a good state: the table fails for its own
	// reason, not because of the helper.
	a, err := Unmarshal([]byte(state(1, 7, 3, zero, run3)))
	if err != nil || a.Len() != 3 || a.Rev() != 7 {
		t.Fatalf("hand-written good state: %v", err)
	}
}

// TestAuthorshipTrace replays the automerge-paper trace and checks the
// final state against the model on a prefix and the tiling at the end.
func TestAuthorshipTrace(t *testing.T) {
	tr := loadTrace(t, "automerge-paper.json.gz")
	a := New(utf8.RuneCountInString(tr.start))
	m := &naiveAuthorship{revs: make([]int, a.Len()), authors: make([]dr.Author, a.Len())}
	authors := []dr.Author{ana, ben, chi}
	const modelPrefix = 5000
	for i, op := range tr.ops {
		by := authors[(i/1000)%len(authors)]
		if err := a.Apply(op, i+1, by); err != nil {
			t.Fatalf("rev %d: %v", i+1, err)
		}
		if i < modelPrefix {
			m.apply(op, i+1, by)
		}
		if i+1 == modelPrefix && !reflect.DeepEqual(a.Spans(), m.spans()) {
			t.Fatalf("spans after %d ops differ from the model", modelPrefix)
		}
	}
	if want := utf8.RuneCountInString(tr.end); a.Len() != want {
		t.Fatalf("Len after the trace = %d, want %d", a.Len(), want)
	}
	checkTiling(t, a.Spans(), a.Len())
	roundTrip(t, a)
}

func FuzzAuthorship(f *testing.F) {
	f.Add(uint64(1), uint16(50), uint8(10))
	f.Add(uint64(2), uint16(0), uint8(200))
	f.Add(uint64(99), uint16(1000), uint8(255))
	f.Fuzz(func(t *testing.T, seed uint64, initial uint16, steps uint8) {
		rng := rand.New(rand.NewPCG(seed, seed>>7))
		a := New(int(initial))
		m := &naiveAuthorship{revs: make([]int, initial), authors: make([]dr.Author, initial)}
		authors := []dr.Author{ana, ben, chi}
		for rev := 1; rev <= int(steps)*4; rev++ {
			op := randomOp(rng, a.Len())
			by := authors[rng.IntN(len(authors))]
			if err := a.Apply(op, rev, by); err != nil {
				t.Fatalf("rev %d: %v", rev, err)
			}
			m.apply(op, rev, by)
		}
		got := a.Spans()
		checkTiling(t, got, len(m.revs))
		if !reflect.DeepEqual(got, m.spans()) {
			t.Fatalf("spans differ from the model")
		}
		roundTrip(t, a)
	})
}

// TestAuthorshipSnapshotReplay is the server's path: persist the state in
// a snapshot, load it back, replay the ops after it, and get what the live
// Authorship has.
func TestAuthorshipSnapshotReplay(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	initial := "Article 1\n"
	doc := newGapText(initial)
	live := New(utf8.RuneCountInString(initial))
	var ops []dr.Op
	snaps := map[int]dr.Snapshot{0: {Rev: 0, Text: initial}}
	for rev := 1; rev <= 600; rev++ {
		op := randomOp(rng, live.Len())
		by := []dr.Author{ana, ben, chi}[rng.IntN(3)]
		if err := live.Apply(op, rev, by); err != nil {
			t.Fatal(err)
		}
		doc.apply(op)
		ops = append(ops, dr.Op{Rev: rev, Op: op, By: by})
		if rev%256 == 0 {
			data, err := live.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			snaps[rev] = dr.Snapshot{Rev: rev, Text: doc.String(), Meta: map[string]json.RawMessage{MetaSection: data}}
		}
	}
	for _, from := range []int{0, 256, 512} {
		a, ok, err := FromSnapshot(snaps[from])
		if err != nil || !ok {
			t.Fatalf("FromSnapshot(%d) = %v, %v", from, ok, err)
		}
		if a.Rev() != from {
			t.Fatalf("snapshot %d: Rev %d", from, a.Rev())
		}
		if err := a.ApplyOps(ops[from:]); err != nil {
			t.Fatalf("replay from %d: %v", from, err)
		}
		if !reflect.DeepEqual(a.Spans(), live.Spans()) || a.Rev() != 600 {
			t.Fatalf("replay from snapshot %d differs from the live authorship", from)
		}
	}
	// Out of sequence, a snapshot without the section, a mismatched one.
	a, _, _ := FromSnapshot(snaps[256])
	if err := a.ApplyOps(ops[300:]); !errors.Is(err, ErrOutOfSequence) {
		t.Fatalf("ApplyOps with a gap = %v, want ErrOutOfSequence", err)
	}
	if _, ok, err := FromSnapshot(dr.Snapshot{Rev: 256, Text: "x"}); ok || err != nil {
		t.Fatalf("snapshot without authorship: ok %v, err %v", ok, err)
	}
	bad := snaps[256]
	bad.Text += "more"
	if _, _, err := FromSnapshot(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("authorship of another text = %v, want ErrCorrupt", err)
	}
	bad = snaps[512]
	bad.Meta = snaps[256].Meta
	if _, _, err := FromSnapshot(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("authorship of another revision = %v, want ErrCorrupt", err)
	}
}

// checkTree fails unless the B-tree invariants hold: node lengths add up,
// no empty node below the root, no node over its capacity, every leaf at
// the same depth. Returns the depth.
func checkTree(t testing.TB, a *Authorship) int {
	t.Helper()
	leafDepth := -1
	var walk func(n *node, depth int, root bool) int
	walk = func(n *node, depth int, root bool) int {
		total := 0
		if n.leaf {
			if len(n.runs) > maxRuns {
				t.Fatalf("leaf with %d runs", len(n.runs))
			}
			for _, r := range n.runs {
				if r.n <= 0 {
					t.Fatalf("run of length %d", r.n)
				}
				total += r.n
			}
			if leafDepth == -1 {
				leafDepth = depth
			} else if leafDepth != depth {
				t.Fatalf("leaves at depths %d and %d", leafDepth, depth)
			}
		} else {
			if len(n.children) > maxChildren || len(n.children) == 0 {
				t.Fatalf("inner node with %d children", len(n.children))
			}
			if root && len(n.children) == 1 {
				t.Fatalf("inner root with one child")
			}
			for _, c := range n.children {
				total += walk(c, depth+1, false)
			}
		}
		if total != n.length {
			t.Fatalf("node length %d, its contents %d", n.length, total)
		}
		if !root && total == 0 {
			t.Fatalf("empty node below the root")
		}
		return total
	}
	walk(a.root, 0, true)
	return leafDepth
}

// TestAuthorshipTreeShape: the tree stays balanced and compact through
// growth, deletion of nearly everything, and regrowth.
func TestAuthorshipTreeShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	a := New(0)
	rev := 0
	// Grow to ~20,000 runs: typing at random places, one revision each.
	for ; rev < 20000; rev++ {
		if err := a.Apply(insertAt(rng.IntN(a.Len()+1), "ab"), rev+1, ana); err != nil {
			t.Fatal(err)
		}
	}
	if d := checkTree(t, a); d < 2 {
		t.Fatalf("20,000 runs in a tree of depth %d", d)
	}
	// Delete in random slices until a few code points are left.
	for a.Len() > 10 {
		rev++
		k := 1 + rng.IntN(min(a.Len()-5, 3000))
		at := rng.IntN(a.Len() - k + 1)
		op := ot.Op{{Skip: at}, {Delete: k}}
		if at == 0 {
			op = op[1:]
		}
		if err := a.Apply(op, rev, ben); err != nil {
			t.Fatal(err)
		}
		checkTree(t, a)
	}
	if d := checkTree(t, a); d > 1 {
		t.Fatalf("%d code points left in a tree of depth %d", a.Len(), d)
	}
	// Delete everything, then grow again.
	rev++
	if err := a.Apply(ot.Op{{Delete: a.Len()}}, rev, ben); err != nil {
		t.Fatal(err)
	}
	if a.Len() != 0 || len(a.Spans()) != 0 || checkTree(t, a) != 0 {
		t.Fatalf("after deleting everything: len %d, spans %v", a.Len(), a.Spans())
	}
	for i := 0; i < 3000; i++ {
		rev++
		if err := a.Apply(insertAt(rng.IntN(a.Len()+1), "x😭"), rev, chi); err != nil {
			t.Fatal(err)
		}
	}
	checkTree(t, a)
	checkTiling(t, a.Spans(), 6000)
}

// FuzzUnmarshal: any input either fails with ErrCorrupt or decodes to a
// state whose spans tile its length and that encodes back to itself.
func FuzzUnmarshal(f *testing.F) {
	for _, n := range []int{0, 3, 100} {
		a := New(n)
		_ = a.Apply(insertAt(n/2, "x😭y"), 1, ana)
		data, _ := a.Marshal()
		f.Add(data)
	}
	f.Add([]byte(`{"v":1,"len":3,"authors":[{"delegation":"","name":""}],"runs":"AwAA"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Unmarshal(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Unmarshal error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		checkTiling(t, a.Spans(), a.Len())
		checkTree(t, a)
		roundTrip(t, a)
	})
}

func TestSpanInitial(t *testing.T) {
	tests := []struct {
		sp   Span
		want bool
	}{
		{Span{Rev: 0, Delegation: "CAN", Name: "Ana"}, true},
		{Span{Rev: 3}, true},
		{Span{Rev: 3, Delegation: "CAN"}, false},
		{Span{Rev: 3, Name: "Ana"}, false},
	}
	for _, tt := range tests {
		if got := tt.sp.Initial(); got != tt.want {
			t.Errorf("%+v.Initial() = %v, want %v", tt.sp, got, tt.want)
		}
	}
}
