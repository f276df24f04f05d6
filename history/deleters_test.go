package history

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

func TestAttributeDeletesKnown(t *testing.T) {
	a := "The Parties shall cooperate fully."
	ops := []dr.Op{
		{Rev: 11, Op: ot.Op{{Skip: 12}, {Delete: 6}}, By: ben}, // "shall "
	}
	// Chi backspaces " fully" key by key: revs 12..17.
	for i := 0; i < 6; i++ {
		end := 27 - i // "The Parties cooperate fully." has " fully" at [21,27)
		ops = append(ops, dr.Op{Rev: 12 + i, Op: ot.Op{{Skip: end - 1}, {Delete: 1}}, By: chi})
	}
	ops = append(ops, dr.Op{Rev: 18, Op: ot.Op{{Skip: 12}, {Insert: "may "}}, By: ana})
	doc := newGapText(a)
	for _, op := range ops {
		doc.apply(op.Op)
	}
	b := doc.String()
	if b != "The Parties may cooperate." {
		t.Fatalf("test ops give %q", b)
	}
	segs, err := AttributeDeletes(Diff(a, b), utf8.RuneCountInString(a), ops)
	if err != nil {
		t.Fatal(err)
	}
	checkDiff(t, a, b, segs)
	var dels []Segment
	for _, s := range segs {
		if s.Op == OpDelete {
			dels = append(dels, s)
		}
	}
	want := []Segment{
		{Op: OpDelete, Text: "shall", From: 12, To: 17, Rev: 11, Delegation: "USA", Name: "Ben"},
		{Op: OpDelete, Text: " fully", From: 27, To: 33, Rev: 17, Delegation: "CHN", Name: "Chi"},
	}
	if !reflect.DeepEqual(dels, want) {
		t.Fatalf("deletes\n got %+v\nwant %+v", dels, want)
	}
}

// TestAttributeDeletesModel: over random ops, every code point of a is
// attributed to the author of the op that deleted it (the model follows
// each code point's position), and survivors to nobody.
func TestAttributeDeletesModel(t *testing.T) {
	authors := []dr.Author{ana, ben, chi}
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		a := randomText(rng, 200)
		lenA := utf8.RuneCountInString(a)
		// positions[i] is the position in a of the current code point i,
		// -1 for inserted text.
		positions := make([]int, lenA)
		for i := range positions {
			positions[i] = i
		}
		deleter := make([]dr.Author, lenA)
		doc := newGapText(a)
		var ops []dr.Op
		for rev := 1; rev <= 300; rev++ {
			op := randomOp(rng, len(positions))
			by := authors[rng.IntN(len(authors))]
			pos := 0
			for _, c := range op {
				switch {
				case c.Skip > 0:
					pos += c.Skip
				case c.Insert != "":
					n := utf8.RuneCountInString(c.Insert)
					positions = slices.Insert(positions, pos, slices.Repeat([]int{-1}, n)...)
					pos += n
				case c.Delete > 0:
					for _, p := range positions[pos : pos+c.Delete] {
						if p >= 0 {
							deleter[p] = by
						}
					}
					positions = slices.Delete(positions, pos, pos+c.Delete)
				}
			}
			doc.apply(op)
			ops = append(ops, dr.Op{Rev: rev, Op: op, By: by})
		}
		b := doc.String()
		// The whole of a as one delete segment: every code point is asked.
		segs, err := AttributeDeletes([]Segment{{Op: OpDelete, Text: a, From: 0, To: lenA}, {Op: OpInsert, Text: b, From: 0, To: utf8.RuneCountInString(b)}}, lenA, ops)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]dr.Author, 0, lenA)
		for _, s := range segs {
			if s.Op == OpDelete {
				for i := s.From; i < s.To; i++ {
					got = append(got, dr.Author{Delegation: s.Delegation, Name: s.Name})
				}
			}
		}
		if !reflect.DeepEqual(got, deleter) {
			t.Fatalf("seed %d: deleters differ from the model", seed)
		}
	}
}

func TestAttributeDeletesErrors(t *testing.T) {
	segs := []Segment{{Op: OpDelete, Text: "abc", From: 0, To: 3}}
	if _, err := AttributeDeletes(segs, 3, []dr.Op{{Rev: 1, Op: ot.Op{{Skip: 2}, {Delete: 2}}}}); !errors.Is(err, ErrOpPastEnd) {
		t.Fatalf("op past the end: %v", err)
	}
	if _, err := AttributeDeletes(segs, 3, []dr.Op{{Rev: 1, Op: ot.Op{{Skip: -1}}}}); !errors.Is(err, ErrBadOp) {
		t.Fatalf("malformed op: %v", err)
	}
	// Segments that are not Diff's (text and offsets disagree) pass as is.
	odd := []Segment{{Op: OpDelete, Text: "a", From: 0, To: 3}, {Op: OpDelete, Text: "abcdef", From: 0, To: 1}}
	got, err := AttributeDeletes(odd, 3, []dr.Op{{Rev: 1, Op: ot.Op{{Delete: 3}}, By: ana}})
	if err != nil || !reflect.DeepEqual(got, odd) {
		t.Fatalf("odd segments: %+v, %v", got, err)
	}
	if got := Attribute([]Segment{{Op: OpInsert, Text: "a", From: 0, To: 3}}, []Span{{Start: 0, End: 3}}); len(got) != 1 || got[0].Text != "a" {
		t.Fatalf("Attribute of an odd segment = %+v", got)
	}
	// Spans that leave gaps or end early lose no text.
	ins := []Segment{{Op: OpInsert, Text: "abcdef", From: 0, To: 6}}
	got = Attribute(ins, []Span{{Start: 1, End: 2, Delegation: "X"}, {Start: 3, End: 4, Delegation: "X"}})
	var text string
	for _, s := range got {
		text += s.Text
	}
	if text != "abcdef" || len(got) != 5 || got[1].Delegation != "X" || got[2].Delegation != "" {
		t.Fatalf("Attribute with gappy spans = %+v", got)
	}
	// No ops: nothing was deleted by anyone.
	got, err = AttributeDeletes(segs, 3, nil)
	if err != nil || !reflect.DeepEqual(got, segs) {
		t.Fatalf("no ops: %+v, %v", got, err)
	}
}
