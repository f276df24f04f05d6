package brackets

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// FuzzObserverCounts checks the owner's bracket counts: after an op, the
// observer's open groups and unbalanced brackets are those of a full parse
// of the new text.
func FuzzObserverCounts(f *testing.F) {
	seeds := []struct {
		text      string
		pos, del  int
		ins       string
		gap, del2 int
		ins2      string
	}{
		{"[a]x[b]", 3, 1, "", 0, 0, ""},
		{"[a][b]", 3, 0, "x", 0, 0, ""},
		{"[a]  [b]", 4, 0, "o", 0, 0, ""},
		{"[a] o [b]", 5, 0, "r", 0, 0, ""},
		{"[a] or [b]", 4, 1, "", 0, 0, ""},
		{"[a] Or [b]", 4, 1, "o", 0, 0, ""},
		{"\\x[a]", 1, 1, "", 0, 0, ""},
		{"\\\\x\\[a]", 2, 1, "", 0, 0, ""},
		{"[a]\n[b]", 3, 1, " ", 0, 0, ""},
		{"[a] b] [c", 2, 0, "zz", 1, 1, "q"},
		{"States [shall/may] act", 10, 2, "ould", 3, 0, " or"},
		{"[a]" + strings.Repeat(" ", 100) + "x[b]", 103, 1, "", 0, 0, ""},
		{"😀 [👍/👎] x [🤝] 😀", 9, 1, " or ", 0, 0, ""},
		{"[a] \u00a0 [b]", 4, 0, "or", 0, 0, ""},
	}
	for _, s := range seeds {
		f.Add(s.text, s.pos, s.del, s.ins, s.gap, s.del2, s.ins2)
	}
	f.Fuzz(func(t *testing.T, text string, pos, del int, ins string, gap, del2 int, ins2 string) {
		if !utf8.ValidString(text) || !utf8.ValidString(ins) || !utf8.ValidString(ins2) {
			return
		}
		n := utf8.RuneCountInString(text)
		pos = clampInt(pos, 0, n)
		del = clampInt(del, 0, n-pos)
		rest := n - pos - del
		gap = clampInt(gap, 0, rest)
		del2 = clampInt(del2, 0, rest-gap)
		var op ot.Op
		for _, c := range []ot.Component{ot.Skip(pos), ot.Insert(ins), ot.Delete(del), ot.Skip(gap), ot.Insert(ins2), ot.Delete(del2)} {
			if c.Skip > 0 || c.Insert != "" || c.Delete > 0 {
				op = append(op, c)
			}
		}
		op = ot.Normalize(op)
		if err := op.Check(); err != nil {
			return
		}
		checkObserverCounts(t, text, op)
	})
}

// checkObserverCounts applies op to a bracket observer of text and
// compares its counts with a full parse.
func checkObserverCounts(t *testing.T, text string, op ot.Op) {
	t.Helper()
	o := NewObserver(dr.Draft{ID: "d"}, text, true)
	tx := ot.NewText(text)
	if _, err := tx.Apply(op); err != nil {
		t.Fatalf("op %v on %q: %v", op, text, err)
	}
	o.Apply(dr.Op{Op: op, Rev: 1}, tx)
	if err := o.Err(); err != nil {
		t.Fatalf("op %v on %q: %v", op, text, err)
	}
	open, diags := o.Counts()
	after := Parse(tx.String())
	if open != len(after.Groups) || diags != len(after.Diagnostics) {
		t.Fatalf("op %v on %q → %q: observer counts %d groups, %d diagnostics; the text has %d, %d",
			op, text, tx.String(), open, diags, len(after.Groups), len(after.Diagnostics))
	}
}

func clampInt(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}

// TestObserverCountsProperty is FuzzObserverCounts on bracket-heavy texts
// and ops built from pieces of the grammar, many times.
func TestObserverCountsProperty(t *testing.T) {
	pieces := []string{"[", "]", "/", "\\", " ", "or", " or ", "o", "r", "\n", "a", "[x]", "[y/z]", "\u00a0", "\t", ",", "😀"}
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(k int) string {
		var b strings.Builder
		for range k {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	iters := 20000
	if testing.Short() {
		iters = 2000
	}
	for range iters {
		text := gen(1 + rng.IntN(20))
		n := utf8.RuneCountInString(text)
		var op ot.Op
		pos := 0
		for e := 0; e < 1+rng.IntN(3) && pos <= n; e++ {
			skip := rng.IntN(n - pos + 1)
			if skip > 0 {
				op = append(op, ot.Skip(skip))
			}
			pos += skip
			if rng.IntN(2) == 0 {
				op = append(op, ot.Insert(gen(1+rng.IntN(2))))
			}
			if del := rng.IntN(min(3, n-pos) + 1); del > 0 {
				op = append(op, ot.Delete(del))
				pos += del
			}
		}
		op = ot.Normalize(op)
		if len(op) == 0 {
			continue
		}
		checkObserverCounts(t, text, op)
	}
}

// TestObserverMetaRoundTrip: an observer restored from its Meta has the
// same counts, curve, tracker and openers (of brackets still in the
// text), and a Meta of another revision or garbage is refused.
func TestObserverMetaRoundTrip(t *testing.T) {
	ana, ben := dr.Author{Delegation: "CAN", Name: "Ana"}, dr.Author{Delegation: "USA", Name: "Ben"}
	d := dr.Draft{ID: "d", By: ana, Created: 1000}
	text := "States [shall] act"
	o := NewObserver(d, text, true)
	tx := ot.NewText(text)
	ops := []dr.Op{
		{Rev: 1, By: ben, TS: 2000, Op: ot.Op{ot.Skip(18), ot.Insert(" [now]")}},
		{Rev: 2, By: ana, TS: 3000, Op: ot.Op{ot.Skip(7), ot.Delete(1)}}, // unbalances "[shall]"
		{Rev: 3, By: ben, TS: 4000, Op: ot.Op{ot.Skip(13), ot.Delete(1)}},
	}
	for _, op := range ops {
		if _, err := tx.Apply(op.Op); err != nil {
			t.Fatal(err)
		}
		o.Apply(op, tx)
	}
	if err := o.Err(); err != nil {
		t.Fatal(err)
	}
	meta := o.Meta()
	r, err := RestoreObserver(d, meta, 3, tx.String(), true)
	if err != nil {
		t.Fatal(err)
	}
	gotOpen, gotDiags := r.Counts()
	wantOpen, wantDiags := o.Counts()
	if gotOpen != wantOpen || gotDiags != wantDiags || len(r.Points()) != len(o.Points()) {
		t.Errorf("restored counts %d/%d points %v; want %d/%d points %v", gotOpen, gotDiags, r.Points(), wantOpen, wantDiags, o.Points())
	}
	if wantOpen != 1 {
		t.Errorf("open groups %d, want 1 ([now])", wantOpen)
	}
	if got := r.Opener(1); got != ben {
		t.Errorf("opener of rev 1: %v, want %v", got, ben)
	}
	if got := r.Opener(0); got != ana {
		t.Errorf("opener of rev 0: %v, want the creator %v", got, ana)
	}
	if r.Tracker().Rev() != 3 {
		t.Errorf("restored tracker at %d, want 3", r.Tracker().Rev())
	}
	for _, bad := range []struct {
		meta string
		rev  int
	}{{string(meta), 2}, {"{}", 3}, {"not json", 3}} {
		if _, err := RestoreObserver(d, []byte(bad.meta), bad.rev, tx.String(), true); !errors.Is(err, ErrCorrupt) {
			t.Errorf("RestoreObserver(%.20q at %d): err %v, want ErrCorrupt", bad.meta, bad.rev, err)
		}
	}
}
