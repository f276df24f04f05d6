package brackets

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// applyOp applies op to doc rune by rune: a deliberately naive apply, so
// the tests do not depend on ot.Apply (and would catch a disagreement with
// it through the ot tests of the same cases).
func applyOp(doc string, op ot.Op) (string, error) {
	rs := []rune(doc)
	var out []rune
	at := 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			if at+c.Skip > len(rs) {
				return "", fmt.Errorf("skip past end")
			}
			out = append(out, rs[at:at+c.Skip]...)
			at += c.Skip
		case c.Insert != "":
			out = append(out, []rune(c.Insert)...)
		case c.Delete > 0:
			if at+c.Delete > len(rs) {
				return "", fmt.Errorf("delete past end")
			}
			if c.Deleted != "" && string(rs[at:at+c.Delete]) != c.Deleted {
				return "", fmt.Errorf("delete mismatch: %q vs %q", string(rs[at:at+c.Delete]), c.Deleted)
			}
			at += c.Delete
		default:
			return "", fmt.Errorf("empty component")
		}
	}
	return string(append(out, rs[at:]...)), nil
}

// runes returns the code points [a, b) of s, counting as
// utf8.RuneCountInString does (an invalid byte is one code point), and
// keeping the bytes as they are.
func runes(s string, a, b int) string {
	off := func(cp int) int {
		i := 0
		for ; cp > 0; cp-- {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
		return i
	}
	return s[off(a):off(b)]
}

// checkInvariants asserts every structural promise of Parse on res.
func checkInvariants(t *testing.T, text string, res Result) {
	t.Helper()
	rs := []rune(text) // lossy for invalid UTF-8, but of the same length
	if res.Len != len(rs) || res.Len != utf8.RuneCountInString(text) {
		t.Fatalf("Len = %d, want %d", res.Len, len(rs))
	}
	for i, d := range res.Diagnostics {
		if d.Pos < 0 || d.Pos >= len(rs) {
			t.Fatalf("diagnostic %d at %d outside [0,%d)", i, d.Pos, len(rs))
		}
		want := map[string]rune{DiagUnclosed: '[', DiagUnmatched: ']', DiagTooDeep: '['}[d.Code]
		if rs[d.Pos] != want {
			t.Fatalf("diagnostic %+v: character %q", d, rs[d.Pos])
		}
		if i > 0 && res.Diagnostics[i-1].Pos >= d.Pos {
			t.Fatalf("diagnostics out of order: %+v", res.Diagnostics)
		}
	}
	for i, g := range res.Groups {
		if g.Start < 0 || g.End > len(rs) || g.Start >= g.End {
			t.Fatalf("group %d span [%d,%d) outside [0,%d)", i, g.Start, g.End, len(rs))
		}
		if i > 0 && res.Groups[i-1].Start >= g.Start {
			t.Fatalf("groups %d and %d out of order", i-1, i)
		}
		if len(g.Brackets) == 0 || g.Brackets[0].Start != g.Start || g.Brackets[len(g.Brackets)-1].End != g.End {
			t.Fatalf("group %d: brackets %v do not span [%d,%d)", i, g.Brackets, g.Start, g.End)
		}
		wantKind := Alternatives
		if len(g.Alternatives) == 1 {
			wantKind = Optional
		}
		if g.Kind != wantKind || len(g.Alternatives) < len(g.Brackets) {
			t.Fatalf("group %d: kind %s with %d alternatives in %d brackets", i, g.Kind, len(g.Alternatives), len(g.Brackets))
		}
		// Rebuild the group's text from its parts: nothing lost, nothing
		// invented.
		var rebuilt strings.Builder
		for k, br := range g.Brackets {
			if k > 0 {
				sep := runes(text, g.Brackets[k-1].End, br.Start)
				if !isSeparator(sep) {
					t.Fatalf("group %d: %q between brackets is no separator", i, sep)
				}
				rebuilt.WriteString(sep)
			}
			rebuilt.WriteByte('[')
			first := true
			for _, a := range g.Alternatives {
				if a.Bracket != k {
					continue
				}
				if a.Start < br.Start+1 || a.End > br.End-1 || a.Start > a.End {
					t.Fatalf("group %d: alternative %+v outside bracket %+v", i, a, br)
				}
				if got := runes(text, a.Start, a.End); got != a.Text {
					t.Fatalf("group %d: alternative text %q, draft has %q", i, a.Text, got)
				}
				if !first {
					rebuilt.WriteByte('/')
				}
				first = false
				rebuilt.WriteString(a.Text)
			}
			rebuilt.WriteByte(']')
		}
		if got := runes(text, g.Start, g.End); got != rebuilt.String() {
			t.Fatalf("group %d: span %q, parts make %q", i, got, rebuilt.String())
		}
		// Each outline, its elisions replaced by the children's text, is
		// the alternative's text.
		for k, a := range g.Alternatives {
			var children []string
			for j := i + 1; j < len(res.Groups); j++ {
				if h := res.Groups[j]; h.Parent == i && h.ParentAlternative == k {
					children = append(children, runes(text, h.Start, h.End))
				}
			}
			pieces := strings.Split(res.Outline(i, k), Elided)
			if len(pieces) != len(children)+1 {
				t.Fatalf("group %d alternative %d: outline %q for %d nested groups", i, k, res.Outline(i, k), len(children))
			}
			var whole strings.Builder
			for c, p := range pieces {
				whole.WriteString(p)
				if c < len(children) {
					whole.WriteString(children[c])
				}
			}
			if whole.String() != a.Text {
				t.Fatalf("group %d alternative %d: outline %q does not rebuild %q", i, k, res.Outline(i, k), a.Text)
			}
		}
		// Parent contains child, in the alternative named.
		if g.Parent == -1 {
			if g.ParentAlternative != -1 || g.Depth != 0 {
				t.Fatalf("top group %d: parent alternative %d depth %d", i, g.ParentAlternative, g.Depth)
			}
		} else {
			if g.Parent >= i || g.Parent < 0 {
				t.Fatalf("group %d: parent %d", i, g.Parent)
			}
			p := res.Groups[g.Parent]
			if g.Depth != p.Depth+1 || g.ParentAlternative < 0 || g.ParentAlternative >= len(p.Alternatives) {
				t.Fatalf("group %d: depth %d parent alternative %d of %d", i, g.Depth, g.ParentAlternative, len(p.Alternatives))
			}
			a := p.Alternatives[g.ParentAlternative]
			if g.Start < a.Start || g.End > a.End {
				t.Fatalf("group %d [%d,%d) outside parent alternative [%d,%d)", i, g.Start, g.End, a.Start, a.End)
			}
		}
		// Groups tile: a later group is after this one, or nested in it.
		for j := i + 1; j < len(res.Groups); j++ {
			h := res.Groups[j]
			if h.Start >= g.End {
				break
			}
			if h.End > g.End {
				t.Fatalf("groups %d [%d,%d) and %d [%d,%d) overlap", i, g.Start, g.End, j, h.Start, h.End)
			}
			anc := h.Parent
			for anc > i {
				anc = res.Groups[anc].Parent
			}
			if anc != i {
				t.Fatalf("group %d lies in group %d but is not its descendant", j, i)
			}
		}
	}
}

// modelTracker is the obviously correct tracker: one id per code point
// (zero ID and false for non-brackets).
type modelTracker struct {
	ids  []ID
	open []bool
}

func newModel(text string) *modelTracker {
	m := &modelTracker{}
	for i, r := range []rune(text) {
		m.ids = append(m.ids, ID{0, i})
		m.open = append(m.open, r == '[')
	}
	return m
}

func (m *modelTracker) apply(op ot.Op, rev int) {
	var ids []ID
	var open []bool
	at, k := 0, 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			ids = append(ids, m.ids[at:at+c.Skip]...)
			open = append(open, m.open[at:at+c.Skip]...)
			at += c.Skip
		case c.Insert != "":
			for _, r := range c.Insert {
				ids = append(ids, ID{rev, k})
				open = append(open, r == '[')
				k++
			}
		case c.Delete > 0:
			at += c.Delete
		}
	}
	m.ids = append(ids, m.ids[at:]...)
	m.open = append(open, m.open[at:]...)
}

func (m *modelTracker) positions() ([]int, []ID) {
	var pos []int
	var ids []ID
	for i, o := range m.open {
		if o {
			pos = append(pos, i)
			ids = append(ids, m.ids[i])
		}
	}
	return pos, ids
}

func sameTracker(t *testing.T, tr *Tracker, m *modelTracker, when string) {
	t.Helper()
	gotPos, gotIDs := tr.Positions()
	wantPos, wantIDs := m.positions()
	if tr.Len() != len(m.open) || tr.Count() != len(wantPos) {
		t.Fatalf("%s: tracker len %d count %d, model %d %d", when, tr.Len(), tr.Count(), len(m.open), len(wantPos))
	}
	for i := range wantPos {
		if gotPos[i] != wantPos[i] || gotIDs[i] != wantIDs[i] {
			t.Fatalf("%s: bracket %d at %d %v, model %d %v", when, i, gotPos[i], gotIDs[i], wantPos[i], wantIDs[i])
		}
	}
	for _, b := range tr.blocks {
		if len(b.pos) == 0 || len(b.pos) > blockMax || len(b.pos) != len(b.ids) {
			t.Fatalf("%s: block of %d positions, %d ids", when, len(b.pos), len(b.ids))
		}
	}
}

// randomOp builds an op on a text of n code points from the bytes of r,
// using alphabet for inserts; it may hold many edits.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() int {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return int(s.b[s.i-1])
}

func (s *byteSource) done() bool { return s.i >= len(s.b) }

var alphabet = []string{"[", "]", "/", "a", " ", "or", `\`, "é", "中", "😀", "ب", "[x]", "[a/b] or [c]"}

func randomOp(src *byteSource, n int) ot.Op {
	var op ot.Op
	at := 0
	edits := 1 + src.next()%4
	if src.next()%8 == 0 {
		edits = 40 // exercises the bulk path
	}
	for e := 0; e < edits && !src.done(); e++ {
		if skip := src.next() % (n - at + 1); skip > 0 {
			op = append(op, ot.Component{Skip: skip})
			at += skip
		}
		switch src.next() % 3 {
		case 0, 1:
			var b strings.Builder
			for k := 0; k <= src.next()%3; k++ {
				b.WriteString(alphabet[src.next()%len(alphabet)])
			}
			op = append(op, ot.Component{Insert: b.String()})
		case 2:
			if d := src.next() % (n - at + 1) % 12; d > 0 {
				op = append(op, ot.Component{Delete: d})
				at += d
			}
		}
	}
	return op
}
