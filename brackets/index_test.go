package brackets

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/ot"
)

// checkIndex compares x, followed op by op, with a full parse of text and
// with an index built afresh from it.
func checkIndex(t *testing.T, x *Index, text string, when string) {
	t.Helper()
	res := Parse(text)
	if x.Groups() != len(res.Groups) || x.Diagnostics() != len(res.Diagnostics) || x.Len() != res.Len {
		t.Fatalf("%s: index counts %d groups, %d diagnostics, %d code points; Parse(%q) %d, %d, %d",
			when, x.Groups(), x.Diagnostics(), x.Len(), text, len(res.Groups), len(res.Diagnostics), res.Len)
	}
	if fresh := NewIndex(text); !slices.Equal(x.toks, fresh.toks) {
		t.Fatalf("%s: tokens of %q\n followed %v\n afresh   %v", when, text, x.toks, fresh.toks)
	}
}

// FuzzIndex follows a fuzzed text through fuzzed ops with an Index and
// compares it with a full parse after every op.
func FuzzIndex(f *testing.F) {
	f.Add("States [shall/may] adopt [all] measures.", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add("[a] or [b] [c]", []byte{0, 3, 0, 5, 1, 11, 2, 2, 7, 0, 1, 200})
	f.Add(`x \[a\] \\[b]`, []byte{9, 1, 6, 0, 0, 4, 1, 6})
	f.Add("缔约国[应][可] الدول [أ] or [ب]", []byte{3, 1, 0, 2, 12, 7, 7, 1})
	f.Add(strings.Repeat("[", 20)+strings.Repeat("]", 20), []byte{20, 0, 1, 0, 3, 5, 0, 1})
	f.Fuzz(func(t *testing.T, text string, ops []byte) {
		if !validText(text) {
			return
		}
		x := NewIndex(text)
		checkIndex(t, x, text, "initial")
		doc := ot.NewText(text)
		src := &byteSource{b: ops}
		for step := 0; !src.done() && step < 64; step++ {
			op := randomOp(src, doc.Len())
			if _, err := doc.Apply(op); err != nil {
				continue // not a valid op on this text: the index never sees it
			}
			if _, err := x.Apply(op, doc); err != nil {
				t.Fatalf("step %d: Apply(%v): %v", step, op, err)
			}
			checkIndex(t, x, doc.String(), "after op "+opString(op))
		}
	})
}

func validText(s string) bool { return strings.ToValidUTF8(s, "") == s }

func opString(op ot.Op) string {
	var b strings.Builder
	for _, c := range op {
		switch {
		case c.Skip > 0:
			b.WriteString("skip ")
		case c.Insert != "":
			b.WriteString("insert " + c.Insert + " ")
		default:
			b.WriteString("delete ")
		}
	}
	return b.String()
}

// TestIndexFollowsRandomEdits is FuzzIndex on random texts and typing-like
// ops, run by every test run.
func TestIndexFollowsRandomEdits(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 13))
	for range 300 {
		text := randomText(rng)
		x := NewIndex(text)
		doc := ot.NewText(text)
		ops := make([]byte, 200)
		for i := range ops {
			ops[i] = byte(rng.IntN(256))
		}
		src := &byteSource{b: ops}
		for step := 0; !src.done(); step++ {
			op := randomOp(src, doc.Len())
			if _, err := doc.Apply(op); err != nil {
				continue
			}
			if _, err := x.Apply(op, doc); err != nil {
				t.Fatal(err)
			}
			checkIndex(t, x, doc.String(), "after op "+opString(op))
		}
	}
}

func TestIndexApplyErrors(t *testing.T) {
	x := NewIndex("[a] b")
	doc := ot.NewText("[a] bc")
	for _, op := range []ot.Op{
		{{Skip: 6}, {Insert: "x"}},
		{{Delete: 6}},
		{{Skip: 1, Insert: "x"}},
	} {
		if _, err := x.Apply(op, doc); err == nil {
			t.Errorf("Apply(%v) succeeded", op)
		}
	}
	// A text whose length does not fit the op.
	if _, err := x.Apply(ot.Op{{Skip: 5}, {Insert: "x"}}, ot.NewText("[a] b")); err == nil {
		t.Error("Apply with the wrong text succeeded")
	}
	checkIndex(t, x, "[a] b", "after refused ops")
}
