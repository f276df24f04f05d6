package provisions

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// agree gives provision "kind num" of s the status agreed through a status
// op, as the server commits it, and returns the register.
func agreeIn(t *testing.T, text string, names ...string) (*Register, *ot.Text) {
	t.Helper()
	r := NewRegister(text, 1)
	tx := ot.NewText(text)
	for _, name := range names {
		id := ""
		for _, l := range r.List() {
			if string(l.Kind)+" "+l.Num == name {
				id = l.ID
			}
		}
		if id == "" {
			t.Fatalf("no provision %q in %q", name, text)
		}
		if err := r.Apply(dr.Op{Rev: r.Rev() + 1, Op: ot.Op{}, Kind: StatusKind(Agreed), Group: id}, tx); err != nil {
			t.Fatal(err)
		}
	}
	return r, tx
}

func TestLockSpan(t *testing.T) {
	r, _ := agreeIn(t, "Article 1\n1. A\n2. B\n\n\n3. C", "paragraph 2")
	if got := r.Locks(); len(got) != 1 || got[0].Span != [2]int{15, 20} || !got[0].Closed {
		t.Fatalf("locks %+v, want paragraph 2 at [15,20) closed", got)
	}
	r, _ = agreeIn(t, "Article 1\n1. A\n2. B", "paragraph 2")
	if got := r.Locks(); len(got) != 1 || got[0].Span != [2]int{15, 19} || got[0].Closed {
		t.Fatalf("locks %+v, want paragraph 2 at [15,19) open-ended", got)
	}
}

func TestLockCheck(t *testing.T) {
	// "Article 1\n1. A\n2. B\n\n3. C": paragraph 2 is [15,20).
	const text = "Article 1\n1. A\n2. B\n\n3. C"
	r, _ := agreeIn(t, text, "paragraph 2")
	tests := []struct {
		name   string
		op     ot.Op
		locked bool
	}{
		{"type inside", ot.Op{ot.Skip(18), ot.Insert("x")}, true},
		{"type at the end of its last line", ot.Op{ot.Skip(19), ot.Insert("x")}, true},
		{"delete inside", ot.Op{ot.Skip(17), ot.Delete(1)}, true},
		{"delete its line break", ot.Op{ot.Skip(19), ot.Delete(1)}, true},
		{"delete the line break before it", ot.Op{ot.Skip(14), ot.Delete(1)}, true},
		{"type before its marker", ot.Op{ot.Skip(15), ot.Insert("x")}, true},
		{"a new line before it", ot.Op{ot.Skip(15), ot.Insert("1 bis. X\n")}, false},
		{"type at the end of the line before", ot.Op{ot.Skip(14), ot.Insert("x")}, false},
		{"type on the blank line after", ot.Op{ot.Skip(20), ot.Insert("2 bis. Y")}, false},
		{"delete the blank line after", ot.Op{ot.Skip(20), ot.Delete(1)}, false},
		{"type in paragraph 3", ot.Op{ot.Skip(24), ot.Insert("x")}, false},
		{"replace across it", ot.Op{ot.Skip(12), ot.Delete(10), ot.Insert("z")}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Locks().Check(tc.op)
			if got := errors.Is(err, ErrLocked); got != tc.locked {
				t.Fatalf("Check(%v) = %v, want locked %v", tc.op, err, tc.locked)
			}
			var le *LockedError
			if tc.locked && (!errors.As(err, &le) || le.ID != r.Locks()[0].ID) {
				t.Errorf("error %v does not name the provision", err)
			}
		})
	}
	// An open-ended lock (the last provision) refuses an insert at its end
	// that would extend its line, and allows one that starts a new line.
	r2, _ := agreeIn(t, "Article 1\n1. A\n2. B", "paragraph 2")
	if err := r2.Locks().Check(ot.Op{ot.Skip(19), ot.Insert("x")}); !errors.Is(err, ErrLocked) {
		t.Errorf("appending to the last line: %v, want locked", err)
	}
	if err := r2.Locks().Check(ot.Op{ot.Skip(19), ot.Insert("\n3. C")}); err != nil {
		t.Errorf("a new line after the last: %v", err)
	}
}

// TestLockProperty: random ops against a text with agreed provisions never
// change a locked span's text, and ops that stay away from every locked
// span (and the line break before it) always pass.
func TestLockProperty(t *testing.T) {
	refused, allowed := 0, 0
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 3))
		r, tx := agreeIn(t, seedTreaty, "paragraph 2", "article 1 bis")
		want := make(map[string]string)
		for _, l := range r.Locks() {
			want[l.ID] = tx.Slice(l.Span[0], l.Span[1])
		}
		for range 300 {
			op := randomOp(rng, tx.Len())
			err := r.Locks().Check(op)
			if err == nil {
				allowed++
				if _, aerr := tx.Apply(op); aerr != nil {
					t.Fatal(aerr)
				}
				if aerr := r.Apply(dr.Op{Rev: r.Rev() + 1, Op: op}, tx); aerr != nil {
					t.Fatal(aerr)
				}
			} else if refused++; away(op, r.Locks()) {
				t.Fatalf("seed %d: op %v away from the locks %+v was refused: %v", seed, op, r.Locks(), err)
			}
			if len(r.Locks()) != len(want) {
				t.Fatalf("seed %d: %d locks, want %d", seed, len(r.Locks()), len(want))
			}
			for _, l := range r.Locks() {
				if got := tx.Slice(l.Span[0], l.Span[1]); got != want[l.ID] {
					t.Fatalf("seed %d: after %v locked text of %s is %q, want %q", seed, op, l.ID, got, want[l.ID])
				}
				// Still a provision of its kind, with its id, at its place.
				found := false
				for _, p := range r.List() {
					found = found || (p.ID == l.ID && p.Span[0] == l.Span[0] && p.Span[1] >= l.Span[1])
				}
				if !found {
					t.Fatalf("seed %d: after %v the agreed provision %s is not listed at %v: %s", seed, op, l.ID, l.Span, brief(r.tracker.List()))
				}
			}
		}
	}
	t.Logf("%d ops refused, %d allowed", refused, allowed)
	if refused < 100 || allowed < 100 {
		t.Errorf("%d ops refused, %d allowed: the property was hardly tested", refused, allowed)
	}
}

// away reports whether op neither deletes nor inserts within [s-1, e] of
// any lock.
func away(op ot.Op, ls Locks) bool {
	pos := 0
	for _, c := range op {
		switch {
		case c.Skip > 0:
			pos += c.Skip
		case c.Insert != "":
			for _, l := range ls {
				if pos >= l.Span[0]-1 && pos <= l.Span[1] {
					return false
				}
			}
		case c.Delete > 0:
			for _, l := range ls {
				if pos <= l.Span[1] && pos+c.Delete >= l.Span[0]-1 {
					return false
				}
			}
			pos += c.Delete
		}
	}
	return true
}

func TestChangeRules(t *testing.T) {
	r, _ := agreeIn(t, "Article 1\n1. A\n2. B", "article 1")
	list := r.List()
	if list[2].Status != Agreed || !list[2].Locked {
		t.Fatalf("paragraph in an agreed article: %+v", list[2])
	}
	if _, err := Change(list, list[2].ID, Informal); !errors.Is(err, ErrStatus) {
		t.Errorf("change inside an agreed article: %v, want ErrStatus", err)
	}
	if _, err := Change(list, list[0].ID, Agreed); !errors.Is(err, ErrStatus) {
		t.Errorf("agree twice: %v, want ErrStatus", err)
	}
	if _, err := Change(list, "p9.9", Open); !errors.Is(err, ErrNoProvision) {
		t.Errorf("unknown id: %v, want ErrNoProvision", err)
	}
	if i, err := Change(list, list[0].ID, Open); err != nil || i != 0 {
		t.Errorf("reopen: %d, %v", i, err)
	}
	if c := r.Counts(); c.Agreed != 3 || c.Total != 3 {
		t.Errorf("counts %+v, want 3 agreed of 3", c)
	}
	if s := Summaries(list); len(s) != 1 || s[0].Paragraphs != 2 || s[0].Agreed != 2 {
		t.Errorf("summaries %+v", s)
	}
}
