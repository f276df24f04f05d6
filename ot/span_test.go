package ot

import (
	"math/rand/v2"
	"testing"
)

func TestTransformSpan(t *testing.T) {
	cases := []struct {
		a, b   int
		op     Op
		wa, wb int
	}{
		{2, 5, Op{Skip(2), Insert("xx")}, 4, 7},                 // insert at the start stays outside
		{2, 5, Op{Skip(5), Insert("xx")}, 2, 5},                 // insert at the end stays outside
		{2, 5, Op{Skip(3), Insert("xx")}, 2, 7},                 // inside grows
		{2, 5, Op{Insert("x")}, 3, 6},                           // before moves
		{2, 5, Op{Skip(1), Delete(2)}, 1, 3},                    // a delete over the start
		{2, 5, Op{Skip(4), Delete(3)}, 2, 4},                    // a delete over the end
		{2, 5, Op{Skip(1), Delete(6)}, 1, 1},                    // all deleted
		{3, 3, Op{Skip(3), Insert("x")}, 3, 3},                  // an empty span is a cursor
		{2, 5, Op{Skip(2), Delete(1), Insert("y")}, 3, 5},       // replaced first character
		{2, 5, Op{Skip(2), DeleteText("a"), Insert("y")}, 3, 5}, // the same, invertible delete
	}
	for _, c := range cases {
		a, b := TransformSpan(c.a, c.b, Normalize(c.op))
		if a != c.wa || b != c.wb {
			t.Errorf("[%d,%d) through %v: got [%d,%d), want [%d,%d)", c.a, c.b, c.op, a, b, c.wa, c.wb)
		}
	}
}

// keptPositions maps each code point of the text op applies to that op
// keeps to its position in the result (-1: deleted).
func keptPositions(n int, op Op) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	old, cur := 0, 0
	for _, c := range op {
		switch c.kind() {
		case kindSkip:
			for k := 0; k < c.Skip; k++ {
				out[old+k] = cur + k
			}
			old, cur = old+c.Skip, cur+c.Skip
		case kindInsert:
			cur += len([]rune(c.Insert))
		case kindDelete:
			old += c.Delete
		}
	}
	for ; old < n; old, cur = old+1, cur+1 { // the implicit trailing skip
		out[old] = cur
	}
	return out
}

// insertedAt returns, for each code point op inserts, its position in the
// result, the boundary of the old text it was inserted at (how many old
// code points come before it), and whether the old code point just before
// that boundary was kept.
func insertedAt(n int, op Op) (pos, boundary []int, afterKept []bool) {
	old, cur, lastKept := 0, 0, false
	for _, c := range op {
		switch c.kind() {
		case kindSkip:
			old, cur, lastKept = old+c.Skip, cur+c.Skip, true
		case kindInsert:
			for range []rune(c.Insert) {
				pos, boundary, afterKept = append(pos, cur), append(boundary, old), append(afterKept, lastKept)
				cur++
			}
		case kindDelete:
			old, lastKept = old+c.Delete, false
		}
	}
	return pos, boundary, afterKept
}

// TestPropTransformSpan: a kept character ends inside the moved span
// exactly when it was inside the span; text inserted at or beyond either
// end is outside, text inserted after a kept character of the span
// inside; and the span stays in the text.
func TestPropTransformSpan(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 5000; i++ {
		doc := randText(r, 1+r.IntN(30))
		n := len([]rune(doc))
		a := r.IntN(n)
		b := a + 1 + r.IntN(n-a)
		op := Normalize(opFromBytes(doc, randBytes(r)))
		after := len([]rune(mustApply(t, doc, op)))
		na, nb := TransformSpan(a, b, op)
		if na < 0 || na > nb || nb > after {
			t.Fatalf("[%d,%d) of %q through %v: got [%d,%d) in a text of %d", a, b, doc, op, na, nb, after)
		}
		for old, p := range keptPositions(n, op) {
			if p < 0 {
				continue
			}
			if in, was := p >= na && p < nb, old >= a && old < b; in != was {
				t.Fatalf("[%d,%d) of %q through %v → [%d,%d): character %d (now %d) inside before %v, after %v", a, b, doc, op, na, nb, old, p, was, in)
			}
		}
		pos, boundary, afterKept := insertedAt(n, op)
		for k, p := range pos {
			in := p >= na && p < nb
			switch at := boundary[k]; {
			case (at <= a || at >= b) && in:
				t.Fatalf("[%d,%d) of %q through %v → [%d,%d): text inserted at %d (now %d) is inside", a, b, doc, op, na, nb, at, p)
			case at > a && at < b && afterKept[k] && !in:
				t.Fatalf("[%d,%d) of %q through %v → [%d,%d): text inserted inside at %d (now %d) is outside", a, b, doc, op, na, nb, at, p)
			}
		}
	}
}
