package provisions

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

func TestIDString(t *testing.T) {
	for _, tt := range []struct {
		s  string
		id ID
	}{{"p0.0", ID{0, 0}}, {"p12.3", ID{12, 3}}} {
		if got := tt.id.String(); got != tt.s {
			t.Errorf("%v.String() = %q, want %q", tt.id, got, tt.s)
		}
		if got, err := ParseID(tt.s); err != nil || got != tt.id {
			t.Errorf("ParseID(%q) = %v, %v; want %v", tt.s, got, err, tt.id)
		}
	}
	for _, bad := range []string{"", "p", "p1", "p1.", "p.1", "b1.2", "p01.2", "p1.02", "p-1.2", "p1.2.3", "p1.2x"} {
		if _, err := ParseID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("ParseID(%q) error %v, want ErrBadID", bad, err)
		}
	}
}

// session is a text and its tracker, edited op by op.
type session struct {
	t    testing.TB
	text *ot.Text
	tr   *Tracker
}

func newSession(t testing.TB, text string) *session {
	return &session{t: t, text: ot.NewText(text), tr: NewTracker(text)}
}

func (s *session) apply(op ot.Op) {
	s.t.Helper()
	if _, err := s.text.Apply(op); err != nil {
		s.t.Fatalf("apply %v: %v", op, err)
	}
	if err := s.tr.Apply(op, s.tr.Rev()+1, s.text); err != nil {
		s.t.Fatalf("tracker apply %v: %v", op, err)
	}
	s.check()
}

// check compares the tracker with a full parse of the text.
func (s *session) check() {
	s.t.Helper()
	text := s.text.String()
	if err := s.tr.Check(text); err != nil {
		s.t.Fatalf("text %q: %v\n lines %+v\n want %+v", text, err, s.tr.lines, first(scanText(text, 0, true)))
	}
	got, want := s.tr.List(), Parse(text)
	seen := make(map[string]bool)
	for i := range got {
		if got[i].ID == "" || seen[got[i].ID] {
			s.t.Fatalf("text %q: provision %d has id %q (empty or twice)", text, i, got[i].ID)
		}
		seen[got[i].ID] = true
		got[i].ID = ""
	}
	if !slices.Equal(got, want) {
		s.t.Fatalf("text %q:\n tracker %s\n parse   %s", text, brief(got), brief(want))
	}
}

func first[A, B any](a A, _ B) A { return a }

// ids maps "kind num" to id.
func (s *session) ids() map[string]string {
	m := make(map[string]string)
	for _, p := range s.tr.List() {
		m[string(p.Kind)+" "+p.Num] = p.ID
	}
	return m
}

// at returns the op that replaces del code points at pos with ins.
func at(s *session, pos, del int, ins string) ot.Op {
	op := ot.Op{}
	if pos > 0 {
		op = append(op, ot.Skip(pos))
	}
	if del > 0 {
		op = append(op, ot.Delete(del))
	}
	if ins != "" {
		op = append(op, ot.Insert(ins))
	}
	return ot.Normalize(op)
}

func cp(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		panic(sub)
	}
	return utf8.RuneCountInString(s[:i])
}

func TestTrackerKeepsIDs(t *testing.T) {
	const text = "Preamble text,\nArticle 1\n1. One.\n2. Two.\nArticle 2 Scope\n1. Three."
	s := newSession(t, text)
	before := s.ids()
	if before["article 1"] != "p0.15" || before["preamble "] != "p0.0" {
		t.Fatalf("initial ids %v", before)
	}
	// Typing inside paragraphs and titles, and inserting a new paragraph
	// before "2." as its own line, keeps every id.
	s.apply(at(s, cp(s.text.String(), "One.")+3, 0, " more"))
	s.apply(at(s, cp(s.text.String(), "Scope"), 5, "Scope of application"))
	s.apply(at(s, cp(s.text.String(), "2. Two."), 0, "1 bis. Inserted.\n"))
	after := s.ids()
	for k, id := range before {
		if after[k] != id {
			t.Errorf("%s: id %s became %s", k, id, after[k])
		}
	}
	if after["paragraph 1 bis"] == "" || after["paragraph 1 bis"] == before["paragraph 2"] {
		t.Errorf("new paragraph id %q", after["paragraph 1 bis"])
	}
	// Changing "Article 2" to "Article 3" keeps the heading's id ("A"
	// stays); deleting the "2" of "2." and typing "3" does not (the
	// marker's first character is new).
	s.apply(at(s, cp(s.text.String(), "Article 2")+8, 1, "3"))
	if got := s.ids()["article 3"]; got != before["article 2"] {
		t.Errorf("renamed article: id %s, want %s", got, before["article 2"])
	}
	// A heading that is deleted and typed again is a new provision.
	p := cp(s.text.String(), "Article 1")
	s.apply(at(s, p, 9, ""))
	s.apply(at(s, p, 0, "Article 1"))
	if got := s.ids()["article 1"]; got == before["article 1"] {
		t.Errorf("retyped article kept id %s", got)
	}
}

func TestTrackerRenumberKeepsIDs(t *testing.T) {
	s := newSession(t, "Article 1\n1. A\n1 bis. B\n2. C")
	before := s.tr.List()
	// "1 bis." becomes "2." and "2." becomes "3.": both markers' first
	// characters are replaced.
	op := ot.Op{ot.Skip(15), ot.Delete(6), ot.Insert("2."), ot.Skip(3), ot.Delete(1), ot.Insert("3")}
	if _, err := s.text.Apply(op); err != nil {
		t.Fatal(err)
	}
	if err := s.tr.ApplyRenumber(op, 1, s.text); err != nil {
		t.Fatal(err)
	}
	s.check()
	after := s.tr.List()
	if got := brief(after); got != "article 1@0-24; paragraph 1@10-15^0; paragraph 2@15-20^0; paragraph 3@20-24^0" {
		t.Fatalf("after renumbering: %s", got)
	}
	for i := range before {
		if before[i].ID != after[i].ID {
			t.Errorf("provision %d: id %s became %s", i, before[i].ID, after[i].ID)
		}
	}
}

func TestTrackerPreambleFollowsFirstHeading(t *testing.T) {
	s := newSession(t, "Title\nRecalling,\nArticle 1\nText\nMore text\nArticle 2")
	s.apply(at(s, cp(s.text.String(), "Article 1"), 9, "Not a heading"))
	s.apply(at(s, cp(s.text.String(), "Text"), 0, "Article 0\n"))
	s.apply(at(s, 0, 0, "Chapter I\n"))
	s.apply(at(s, 0, 10, ""))
}

func TestTrackerRestore(t *testing.T) {
	s := newSession(t, "Article 1\n1. A\n2. B")
	s.apply(at(s, cp(s.text.String(), "2. B"), 0, "1 bis. X\n"))
	data, err := json.Marshal(s.tr)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Restore(data, s.text.String())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := brief(r.List())+ids(r.List()), brief(s.tr.List())+ids(s.tr.List()); got != want {
		t.Errorf("restored %s, want %s", got, want)
	}
	if _, err := Restore(data, s.text.String()+"x"); !errors.Is(err, ErrOutOfSync) {
		t.Errorf("restore on another text: %v, want ErrOutOfSync", err)
	}
	if _, err := Restore([]byte(`{"v":2}`), ""); !errors.Is(err, ErrCorrupt) {
		t.Errorf("restore of version 2: %v, want ErrCorrupt", err)
	}
}

func ids(ps []Provision) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(" " + p.ID)
	}
	return b.String()
}

// pieces are what random edits insert: structure-heavy text.
var pieces = []string{"\n", "\n", "Article ", "Article 1", " bis", "Chapter II", "1.", "2 bis.", " ", "(a)", "(i)", "(h)",
	"PP1", "text", "Title", "x", "é", "中", "\n\n", ". ", "\nArticle 3 Scope\n", "\n1. ", "\n(b) ", "Статья 4"}

// randomOp returns a random op on a text of n code points: one to three
// edits (insert, delete or replace).
func randomOp(rng *rand.Rand, n int) ot.Op {
	var op ot.Op
	pos := 0
	for e := 0; e < 1+rng.IntN(3) && pos <= n; e++ {
		at := pos + rng.IntN(n-pos+1)
		if at > pos {
			op = append(op, ot.Skip(at-pos))
		}
		pos = at
		if d := rng.IntN(4); d > 0 && pos < n && rng.IntN(2) == 0 {
			d = min(d*rng.IntN(6)+1, n-pos)
			op = append(op, ot.Delete(d))
			pos += d
		}
		if rng.IntN(3) > 0 {
			op = append(op, ot.Insert(pieces[rng.IntN(len(pieces))]))
		}
	}
	return ot.Normalize(op)
}

const seedTreaty = "The States Parties,\nRecalling X,\nChapter I General\nArticle 1 Purpose\n1. The purpose.\n2. Each State Party:\n(a) shall;\n(i) one;\n(b) may.\nArticle 1 bis\nText.\nChapter II\nArticle 2\n1. Other."

func TestTrackerRandom(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 1))
		s := newSession(t, seedTreaty)
		for range 200 {
			s.apply(randomOp(rng, s.text.Len()))
		}
	}
}

// FuzzTracker: after random ops, the tracker's provisions are the full
// parse's, every id is set and unique, and a provision whose marker line an
// op did not touch keeps its id.
func FuzzTracker(f *testing.F) {
	f.Add(uint64(1), seedTreaty)
	f.Add(uint64(2), "Article 1\n1. A\n(a) x\n(i) y")
	f.Add(uint64(3), "")
	f.Fuzz(func(t *testing.T, seed uint64, text string) {
		if !utf8.ValidString(text) || len(text) > 2000 {
			return
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		s := newSession(t, text)
		for range 30 {
			before := s.tr.List()
			beforeText := s.text.String()
			op := randomOp(rng, s.text.Len())
			s.apply(op)
			// Provisions whose marker line the op left alone keep their id.
			after := make(map[int]string)
			for _, p := range s.tr.List() {
				after[p.Mark] = p.ID
			}
			for _, p := range before {
				ls, le := lineBounds(beforeText, p.Mark)
				if touches(op, ls, le) {
					continue
				}
				got, ok := after[newPosition(op, p.Mark)]
				if !ok && p.Kind == Preamble {
					continue // a heading appeared before it
				}
				if got != p.ID {
					t.Fatalf("text %q, op %v: provision %s %s had id %s, now %q", beforeText, op, p.Kind, p.Num, p.ID, got)
				}
			}
		}
	})
}

// lineBounds returns the code points [start, end] of the line holding p,
// its line break included.
func lineBounds(text string, p int) (int, int) {
	r := []rune(text)
	s, e := p, p
	for s > 0 && r[s-1] != '\n' {
		s--
	}
	for e < len(r) && r[e] != '\n' {
		e++
	}
	return s, e
}

// touches reports whether op deletes in or inserts within [s, e] (an insert
// at s counts: it may join the line's start).
func touches(op ot.Op, s, e int) bool {
	pos := 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			pos += c.Skip
		case c.Insert != "":
			if pos >= s-1 && pos <= e+1 {
				return true
			}
		case c.Delete > 0:
			if pos <= e+1 && pos+c.Delete >= s-1 {
				return true
			}
			pos += c.Delete
		}
	}
	return false
}
