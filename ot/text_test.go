package ot

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkTree verifies the rope's invariants: counts add up, leaves hold
// valid UTF-8 within their bound, all leaves are at one depth, and no node
// but the root is below its minimum.
func checkTree(t *testing.T, text *Text) {
	t.Helper()
	if text.root == nil {
		return
	}
	depth := -1
	var walk func(nd *node, d int, root bool) int
	walk = func(nd *node, d int, root bool) int {
		if nd.leaf() {
			if depth == -1 {
				depth = d
			} else if depth != d {
				t.Fatalf("leaves at depths %d and %d", depth, d)
			}
			if !utf8.Valid(nd.text) {
				t.Fatalf("leaf holds invalid UTF-8 %q", nd.text)
			}
			if n := utf8.RuneCount(nd.text); n != nd.n {
				t.Fatalf("leaf counts %d code points, holds %d", nd.n, n)
			}
			if len(nd.text) > leafMax && !root {
				t.Fatalf("leaf of %d bytes exceeds %d", len(nd.text), leafMax)
			}
			if len(nd.text) < leafMin && !root {
				t.Fatalf("leaf of %d bytes is below %d", len(nd.text), leafMin)
			}
			return nd.n
		}
		if len(nd.children) > nodeMax {
			t.Fatalf("node with %d children exceeds %d", len(nd.children), nodeMax)
		}
		if len(nd.children) < 2 && root {
			t.Fatalf("internal root with %d children", len(nd.children))
		}
		if len(nd.children) < nodeMin && !root {
			t.Fatalf("node with %d children is below %d", len(nd.children), nodeMin)
		}
		sum := 0
		for _, c := range nd.children {
			sum += walk(c, d+1, false)
		}
		if sum != nd.n {
			t.Fatalf("node counts %d code points, children hold %d", nd.n, sum)
		}
		return sum
	}
	walk(text.root, 0, true)
}

// alphabet mixes scripts of different UTF-8 widths, combining marks, ZWJ
// emoji sequences and flags.
var alphabet = []string{
	"a", "b", "z", " ", "\n", "é", "e\u0301", "ж", "Щ", "ب", "ي", "中", "文",
	"😭", "👩\u200d💻", "🇫🇷", "🇨🇦", "\u00a0", "[", "]", "/",
}

func randText(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// randOp returns a random valid op for a draft of docLen code points.
func randOp(r *rand.Rand, doc string) Op {
	runes := []rune(doc)
	var op Op
	pos := 0
	for pos < len(runes) && r.IntN(6) != 0 {
		switch r.IntN(4) {
		case 0:
			n := 1 + r.IntN(len(runes)-pos)
			op = append(op, Skip(n))
			pos += n
		case 1:
			op = append(op, Insert(randText(r, 1+r.IntN(8))))
		case 2:
			n := 1 + r.IntN(min(len(runes)-pos, 20))
			op = append(op, Delete(n))
			pos += n
		case 3:
			n := 1 + r.IntN(min(len(runes)-pos, 20))
			op = append(op, DeleteText(string(runes[pos:pos+n])))
			pos += n
		}
	}
	if r.IntN(3) == 0 {
		op = append(op, Insert(randText(r, 1+r.IntN(4))))
	}
	return op
}

func TestTextRandomEdits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		doc := randText(r, r.IntN(3000))
		text := NewText(doc)
		checkTree(t, text)
		for i := 0; i < 300; i++ {
			var op Op
			if r.IntN(2) == 0 {
				op = randOp(r, doc)
			} else {
				// Small edits, like typing.
				n := utf8.RuneCountInString(doc)
				pos := r.IntN(n + 1)
				if r.IntN(3) == 0 && pos < n {
					op = Op{Skip(pos), Delete(1 + r.IntN(min(n-pos, 3)))}
				} else {
					op = Op{Skip(pos), Insert(randText(r, 1+r.IntN(3)))}
				}
				if pos == 0 {
					op = op[1:]
				}
			}
			want, err := Apply(doc, op)
			if err != nil {
				t.Fatalf("Apply(%q, %v): %v", doc, op, err)
			}
			inv, err := text.Apply(op)
			if err != nil {
				t.Fatalf("Text.Apply(%v): %v", op, err)
			}
			checkTree(t, text)
			if got := text.String(); got != want {
				t.Fatalf("after %v: text %q, want %q", op, got, want)
			}
			if text.Len() != utf8.RuneCountInString(want) {
				t.Fatalf("Len %d, want %d", text.Len(), utf8.RuneCountInString(want))
			}
			mi, err := MakeInvertible(doc, op)
			if err != nil {
				t.Fatal(err)
			}
			wantInv, err := Invert(mi)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(inv, wantInv) {
				t.Fatalf("inverse of %v on %q is %v, want %v", op, doc, inv, wantInv)
			}
			if back, err := Apply(want, inv); err != nil || back != doc {
				t.Fatalf("inverse %v gives %q, %v; want %q", inv, back, err, doc)
			}
			doc = want
		}
		// Delete everything, then type again.
		if text.Len() == 0 {
			text.Apply(Op{Insert("x")})
		}
		if _, err := text.Apply(Op{Delete(text.Len())}); err != nil || text.String() != "" || text.Len() != 0 {
			t.Fatalf("delete all: %q, %v", text.String(), err)
		}
		if _, err := text.Apply(Op{Insert("né")}); err != nil || text.String() != "né" {
			t.Fatalf("insert into empty: %q, %v", text.String(), err)
		}
	}
}

func TestTextBigInsert(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	doc := randText(r, 5000)
	text := NewText(doc)
	big := randText(r, 40000)
	op := Op{Skip(2500), Insert(big), Delete(100)}
	want, err := Apply(doc, op)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := text.Apply(op); err != nil {
		t.Fatal(err)
	}
	checkTree(t, text)
	if text.String() != want {
		t.Fatal("big insert: text differs from Apply")
	}
	// Delete most of it across many leaves and levels.
	op = Op{Skip(10), Delete(text.Len() - 20)}
	want, _ = Apply(want, op)
	if _, err := text.Apply(op); err != nil {
		t.Fatal(err)
	}
	checkTree(t, text)
	if text.String() != want {
		t.Fatalf("big delete: %q, want %q", text.String(), want)
	}
}

func TestTextApplyAtomic(t *testing.T) {
	doc := "héllo wörld 😭 and more text"
	for _, tc := range []struct {
		op   Op
		want error
	}{
		{Op{Insert("x"), Skip(100)}, ErrSkipPastEnd},
		{Op{Delete(2), Insert("x"), Skip(5), Delete(100)}, ErrDeletePastEnd},
		{Op{Insert("x"), Skip(1), DeleteText("éx")}, ErrDeleteMismatch},
		{Op{Insert("x"), Component{}}, ErrMalformed},
		{Op{Insert("x"), Insert("\xed\xa0\x80")}, ErrInvalidUTF8},
	} {
		text := NewText(doc)
		inv, err := text.Apply(tc.op)
		if !errors.Is(err, tc.want) || inv != nil {
			t.Errorf("Apply(%v) = %v, %v; want error %v", tc.op, inv, err, tc.want)
		}
		if text.String() != doc || text.Len() != utf8.RuneCountInString(doc) {
			t.Errorf("Apply(%v) failed but changed the text to %q", tc.op, text.String())
		}
	}
}

func TestTextSliceAndZero(t *testing.T) {
	var zero Text
	if zero.Len() != 0 || zero.String() != "" || zero.Slice(0, 5) != "" {
		t.Errorf("zero Text is not empty")
	}
	if _, err := zero.Apply(Op{Insert("ab")}); err != nil || zero.String() != "ab" {
		t.Errorf("zero Text insert: %q, %v", zero.String(), err)
	}
	doc := strings.Repeat("a😭ж中", 500)
	text := NewText(doc)
	runes := []rune(doc)
	for _, tc := range [][2]int{{0, 0}, {0, 1}, {1, 5}, {-3, 2}, {1990, 2100}, {5, 3}, {700, 1500}} {
		lo, hi := max(tc[0], 0), min(tc[1], len(runes))
		want := ""
		if lo < hi {
			want = string(runes[lo:hi])
		}
		if got := text.Slice(tc[0], tc[1]); got != want {
			t.Errorf("Slice(%d, %d) = %q, want %q", tc[0], tc[1], got, want)
		}
	}
	if got := NewText("a\xffb").String(); got != "a\uFFFDb" {
		t.Errorf("NewText of invalid UTF-8 holds %q", got)
	}
}

func ExampleText_Apply() {
	text := NewText("hello world")
	inverse, err := text.Apply(Op{Skip(3), Insert("abc"), Delete(2)})
	fmt.Println(text.String(), err)
	text.Apply(inverse)
	fmt.Println(text.String())
	// Output:
	// helabc world <nil>
	// hello world
}

// TestTextLargeRandomOps exercises splits and merges on several levels:
// large inserts and deletes on a draft of tens of thousands of code points.
func TestTextLargeRandomOps(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	doc := randText(r, 30000)
	text := NewText(doc)
	for i := 0; i < 150; i++ {
		n := utf8.RuneCountInString(doc)
		pos := r.IntN(n + 1)
		var op Op
		if pos > 0 {
			op = append(op, Skip(pos))
		}
		if k := r.IntN(3); k == 0 || pos == n {
			op = append(op, Insert(randText(r, r.IntN(20000)+1)))
		} else {
			op = append(op, Delete(1+r.IntN(min(n-pos, 25000))))
			if k == 1 {
				op = append(op, Insert(randText(r, 1+r.IntN(50))))
			}
		}
		want, err := Apply(doc, op)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := text.Apply(op)
		if err != nil {
			t.Fatal(err)
		}
		checkTree(t, text)
		if text.Len() != utf8.RuneCountInString(want) || text.String() != want {
			t.Fatalf("step %d: text differs from Apply", i)
		}
		if i%10 == 0 {
			// Undo and redo: the inverse restores the draft exactly.
			if _, err := text.Apply(inv); err != nil || text.String() != doc {
				t.Fatalf("step %d: inverse does not restore: %v", i, err)
			}
			checkTree(t, text)
			if _, err := text.Apply(op); err != nil {
				t.Fatal(err)
			}
		}
		doc = want
	}
}

// TestLeafOffsets checks byteOffset and byteRange, which count code points
// eight bytes at a time, against a plain rune-by-rune count, for every
// code point of leaves of mixed widths (and all-ASCII ones), from every
// start.
func TestLeafOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 200; round++ {
		s := randText(r, r.IntN(120))
		if round%5 == 0 {
			s = strings.Repeat("x", r.IntN(40))
		}
		nd := newLeaf(s)
		var starts []int // byte offset of each code point, then len(s)
		for i := range s {
			starts = append(starts, i)
		}
		starts = append(starts, len(s))
		for k := 0; k < len(starts); k++ { // callers keep k within the leaf
			want := starts[k]
			if got := byteOffset(nd, k); got != want {
				t.Fatalf("%q: byteOffset(%d) = %d, want %d", s, k, got, want)
			}
			for from := 0; from <= k; from++ {
				i, j := byteRange(nd, from, k)
				if wi := starts[from]; i != wi || j != want {
					t.Fatalf("%q: byteRange(%d, %d) = %d, %d, want %d, %d", s, from, k, i, j, wi, want)
				}
			}
		}
	}
}

// TestTextSliceEveryRange compares Slice with slicing the runes for every
// range of a multilingual text spread over several leaves.
func TestTextSliceEveryRange(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	doc := randText(r, 900)
	text := NewText(doc)
	if text.root.leaf() {
		t.Fatal("the text fits one leaf; the test needs several")
	}
	runes := []rune(doc)
	for from := 0; from <= len(runes); from += 1 + r.IntN(7) {
		for to := from; to <= len(runes); to += 1 + r.IntN(13) {
			if got, want := text.Slice(from, to), string(runes[from:to]); got != want {
				t.Fatalf("Slice(%d, %d) = %q, want %q", from, to, got, want)
			}
		}
	}
}
