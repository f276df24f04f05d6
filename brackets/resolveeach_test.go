package brackets

import (
	"errors"
	"testing"
)

// listed parses text with ids (revision 0).
func listed(t *testing.T, text string) Result {
	t.Helper()
	res, err := List(text, NewTracker(text))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestResolveEach(t *testing.T) {
	tests := []struct {
		name, text string
		groups     []string // ids to resolve together (b0.<position of the [>)
		res        Resolution
		want       string
	}{
		{"choose in two", "A [x/y] B [p/q] C", []string{"b0.2", "b0.10"}, Resolution{Choice: ChoiceChoose, Index: 1}, "A y B q C"},
		{"order given does not matter", "A [x/y] B [p/q] C", []string{"b0.10", "b0.2"}, Resolution{Choice: ChoiceChoose}, "A x B p C"},
		{"drop three", "[a] b [c] d [e]", []string{"b0.0", "b0.6", "b0.12"}, Resolution{Choice: ChoiceDrop}, " b  d "},
		{"compromise", "[a/b] and [c/d]", []string{"b0.0", "b0.10"}, Resolution{Choice: ChoiceCompromise, Text: "z"}, "z and z"},
		{"one group", "x [a/b] y", []string{"b0.2"}, Resolution{Choice: ChoiceChoose}, "x a y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := listed(t, tt.text)
			var gs []int
			for _, id := range tt.groups {
				gi := r.Find(id)
				if gi < 0 {
					t.Fatalf("no group %s in %q", id, tt.text)
				}
				gs = append(gs, gi)
			}
			op, done, err := r.ResolveEach(gs, tt.res)
			if err != nil {
				t.Fatal(err)
			}
			got, err := applyOp(tt.text, op)
			if err != nil || got != tt.want {
				t.Fatalf("got %q (%v), want %q", got, err, tt.want)
			}
			if len(done) != len(gs) {
				t.Fatalf("%d changes for %d groups", len(done), len(gs))
			}
			for k := 1; k < len(done); k++ {
				if r.Groups[done[k].Group].Start > r.Groups[done[k-1].Group].Start {
					t.Errorf("changes not last group first: %v", done)
				}
			}
			// Each change alone is Resolve's.
			for _, d := range done {
				ch, err := r.Resolve(d.Group, tt.res)
				if err != nil || ch.Text != d.Text {
					t.Errorf("group %d: change text %q, Resolve alone %q (%v)", d.Group, d.Text, ch.Text, err)
				}
			}
		})
	}
}

func TestResolveEachRefuses(t *testing.T) {
	r := listed(t, "A [x/[p/q]] B [y] C")
	outer, inner, optional := r.Find("b0.2"), r.Find("b0.5"), r.Find("b0.14")
	if outer < 0 || inner < 0 || optional < 0 {
		t.Fatalf("groups %v", r.Groups)
	}
	if _, _, err := r.ResolveEach([]int{outer, inner}, Resolution{Choice: ChoiceChoose}); !errors.Is(err, ErrNested) {
		t.Errorf("nested groups: err %v, want ErrNested", err)
	}
	_, _, err := r.ResolveEach([]int{optional, outer}, Resolution{Choice: ChoiceDrop})
	var ge *GroupError
	if !errors.As(err, &ge) || ge.Group != "b0.2" || !errors.Is(err, ErrChoice) {
		t.Errorf("drop on a group of alternatives: err %v, want a GroupError for b0.2 wrapping ErrChoice", err)
	}
}
