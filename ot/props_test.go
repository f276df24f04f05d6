package ot

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The properties below are checked twice: on deterministic random inputs in
// the ordinary test run (TestProp*), and by the fuzz targets (Fuzz*), whose
// seeds (f.Add and testdata/fuzz) also run in the ordinary test run.

// opFromBytes builds a valid op on doc from fuzz bytes, two per component:
// a kind and a size. Ops may have adjacent components of one kind and
// trailing skips.
func opFromBytes(doc string, data []byte) Op {
	runes := []rune(doc)
	var op Op
	pos := 0
	for ; len(data) >= 2; data = data[2:] {
		k, v := data[0], int(data[1])
		left := len(runes) - pos
		switch k % 4 {
		case 0:
			if left > 0 {
				n := 1 + v%left
				op = append(op, Skip(n))
				pos += n
			}
		case 1:
			op = append(op, Insert(textFromByte(v)))
		case 2, 3:
			if left > 0 {
				n := 1 + v%min(left, 9)
				if k%4 == 2 {
					op = append(op, Delete(n))
				} else {
					op = append(op, DeleteText(string(runes[pos:pos+n])))
				}
				pos += n
			}
		}
	}
	return op
}

// textFromByte returns one to three pieces of the test alphabet.
func textFromByte(v int) string {
	s := alphabet[v%len(alphabet)]
	for k := (v / len(alphabet)) % 3; k > 0; k-- {
		s += alphabet[(v*7+k)%len(alphabet)]
	}
	return s
}

func randBytes(r *rand.Rand) []byte {
	b := make([]byte, r.IntN(16))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

func mustApply(t *testing.T, doc string, op Op) string {
	t.Helper()
	s, err := Apply(doc, op)
	if err != nil {
		t.Fatalf("Apply(%q, %v): %v", doc, op, err)
	}
	return s
}

func checkNormal(t *testing.T, what string, op Op) {
	t.Helper()
	if err := op.Check(); err != nil {
		t.Fatalf("%s = %v fails Check: %v", what, op, err)
	}
	if len(op) > 0 && !isNormal(op) {
		t.Fatalf("%s = %v is not normal", what, op)
	}
}

// checkConvergence: two concurrent ops converge whichever side each takes.
func checkConvergence(t *testing.T, doc string, a, b Op) {
	t.Helper()
	for _, side := range []Side{Left, Right} {
		other := Right
		if side == Right {
			other = Left
		}
		a2, err := Transform(a, b, side)
		if err != nil {
			t.Fatalf("Transform(%v, %v, %v): %v", a, b, side, err)
		}
		b2, err := Transform(b, a, other)
		if err != nil {
			t.Fatalf("Transform(%v, %v, %v): %v", b, a, other, err)
		}
		checkNormal(t, "Transform", a2)
		checkNormal(t, "Transform", b2)
		x := mustApply(t, mustApply(t, doc, a), b2)
		y := mustApply(t, mustApply(t, doc, b), a2)
		if x != y {
			t.Fatalf("on %q, a=%v (%v) and b=%v diverge: a,b'=%q b,a'=%q (a'=%v b'=%v)", doc, a, side, b, x, y, a2, b2)
		}
	}
}

// checkCompose: compose equals sequential apply, keeps invertibility.
func checkCompose(t *testing.T, doc string, a, b Op) {
	t.Helper()
	mid := mustApply(t, doc, a)
	end := mustApply(t, mid, b)
	c, err := Compose(a, b)
	if err != nil {
		t.Fatalf("Compose(%v, %v): %v", a, b, err)
	}
	checkNormal(t, "Compose", c)
	if got := mustApply(t, doc, c); got != end {
		t.Fatalf("on %q Compose(%v, %v) = %v gives %q, sequential apply %q", doc, a, b, c, got, end)
	}
	ia, err1 := MakeInvertible(doc, a)
	ib, err2 := MakeInvertible(mid, b)
	if err1 != nil || err2 != nil {
		t.Fatalf("MakeInvertible: %v, %v", err1, err2)
	}
	ic, err := Compose(ia, ib)
	if err != nil {
		t.Fatal(err)
	}
	undo, err := Invert(ic)
	if err != nil {
		t.Fatalf("Compose(%v, %v) = %v is not invertible: %v", ia, ib, ic, err)
	}
	if got := mustApply(t, end, undo); got != doc {
		t.Fatalf("inverse of composed %v gives %q, want %q", ic, got, doc)
	}
}

// checkNormalize: idempotent and effect-preserving.
func checkNormalize(t *testing.T, doc string, op Op) {
	t.Helper()
	n := Normalize(op)
	checkNormal(t, "Normalize", n)
	if again := Normalize(n); !reflect.DeepEqual(again, n) {
		t.Fatalf("Normalize not idempotent: %v then %v", n, again)
	}
	if a, b := mustApply(t, doc, op), mustApply(t, doc, n); a != b {
		t.Fatalf("on %q, %v gives %q but its normal form %v gives %q", doc, op, a, n, b)
	}
}

// checkInvert: the inverse from Text.Apply, and Invert(MakeInvertible),
// undo the op; inverting twice gives the invertible op back.
func checkInvert(t *testing.T, doc string, op Op) {
	t.Helper()
	text := NewText(doc)
	inv, err := text.Apply(op)
	if err != nil {
		t.Fatalf("Text.Apply(%v): %v", op, err)
	}
	after := mustApply(t, doc, op)
	if text.String() != after {
		t.Fatalf("Text.Apply gives %q, Apply %q", text.String(), after)
	}
	if _, err := text.Apply(inv); err != nil || text.String() != doc {
		t.Fatalf("inverse %v gives %q, %v; want %q", inv, text.String(), err, doc)
	}
	mi, err := MakeInvertible(doc, op)
	if err != nil {
		t.Fatal(err)
	}
	ii, err := Invert(mi)
	if err != nil || !reflect.DeepEqual(ii, inv) {
		t.Fatalf("Invert(MakeInvertible) = %v, %v; Text.Apply's inverse %v", ii, err, inv)
	}
	back, err := Invert(ii)
	if err != nil || !sameOp(back, mi) {
		t.Fatalf("Invert twice = %v, %v; want %v", back, err, mi)
	}
}

func TestPropConvergence(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 3000; i++ {
		doc := randText(r, r.IntN(30))
		checkConvergence(t, doc, opFromBytes(doc, randBytes(r)), opFromBytes(doc, randBytes(r)))
	}
}

func TestPropCompose(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 3000; i++ {
		doc := randText(r, r.IntN(30))
		a := opFromBytes(doc, randBytes(r))
		checkCompose(t, doc, a, opFromBytes(mustApply(t, doc, a), randBytes(r)))
	}
}

func TestPropNormalizeInvert(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 3000; i++ {
		doc := randText(r, r.IntN(30))
		op := opFromBytes(doc, randBytes(r))
		checkNormalize(t, doc, op)
		checkInvert(t, doc, op)
	}
}

var fuzzDocs = []string{"", "hello world", "😭😭😭😭😭", "héllo wörld", "👩\u200d💻 🇫🇷 e\u0301", "مرحبا 中文 привет"}

func FuzzTransform(f *testing.F) {
	for i, d := range fuzzDocs {
		f.Add(d, []byte{1, byte(i), 0, 3, 1, 9}, []byte{1, byte(i + 1), 2, 2})
		f.Add(d, []byte{0, 2, 1, 5}, []byte{0, 2, 1, 6, 3, 1})
	}
	f.Fuzz(func(t *testing.T, doc string, a, b []byte) {
		doc = strings.ToValidUTF8(doc, "?")
		checkConvergence(t, doc, opFromBytes(doc, a), opFromBytes(doc, b))
	})
}

func FuzzCompose(f *testing.F) {
	for i, d := range fuzzDocs {
		f.Add(d, []byte{1, byte(i), 2, 3}, []byte{0, 1, 3, 4, 1, 7})
	}
	f.Fuzz(func(t *testing.T, doc string, a, b []byte) {
		doc = strings.ToValidUTF8(doc, "?")
		opA := opFromBytes(doc, a)
		checkCompose(t, doc, opA, opFromBytes(mustApply(t, doc, opA), b))
	})
}

func FuzzNormalizeInvert(f *testing.F) {
	for i, d := range fuzzDocs {
		f.Add(d, []byte{0, 1, 0, 1, 1, byte(i), 1, 4, 2, 1, 3, 1, 0, 9})
	}
	f.Fuzz(func(t *testing.T, doc string, data []byte) {
		doc = strings.ToValidUTF8(doc, "?")
		op := opFromBytes(doc, data)
		checkNormalize(t, doc, op)
		checkInvert(t, doc, op)
	})
}

// FuzzApply: any JSON op on any draft: Apply and Text.Apply never panic,
// agree on the result or on the error, and a failed Text.Apply changes
// nothing.
func FuzzApply(f *testing.F) {
	f.Add("hello world", []byte(`[3,"abc",{"d":2}]`))
	f.Add("😭😭😭😭😭", []byte(`[3,"abc",{"d":2}]`))
	f.Add("abc", []byte(`[1,{"d":"bc"},"x"]`))
	f.Add("abc", []byte(`[1,{"d":"bd"}]`))
	f.Add("abc", []byte(`[4]`))
	f.Add("abc", []byte(`[2,{"d":2}]`))
	f.Add("a\xffb", []byte(`["x"]`))
	f.Add("", []byte(`["\ud83d\ude2d",{"d":1}]`))
	f.Fuzz(func(t *testing.T, doc string, data []byte) {
		var op Op
		if err := json.Unmarshal(data, &op); err != nil {
			return
		}
		want, werr := Apply(doc, op)
		if !utf8.ValidString(doc) {
			if !errors.Is(werr, ErrInvalidUTF8) {
				t.Fatalf("Apply on invalid UTF-8: %v", werr)
			}
			return
		}
		text := NewText(doc)
		inv, err := text.Apply(op)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Apply(%q, %v): %v; Text.Apply: %v", doc, op, werr, err)
		}
		if err != nil {
			for _, e := range []error{ErrSkipPastEnd, ErrDeletePastEnd, ErrDeleteMismatch, ErrMalformed, ErrInvalidUTF8} {
				if errors.Is(err, e) != errors.Is(werr, e) {
					t.Fatalf("Apply(%q, %v): %v; Text.Apply: %v", doc, op, werr, err)
				}
			}
			if text.String() != doc {
				t.Fatalf("failed Text.Apply changed %q to %q", doc, text.String())
			}
			return
		}
		if text.String() != want {
			t.Fatalf("Apply(%q, %v) = %q; Text.Apply %q", doc, op, want, text.String())
		}
		if back := mustApply(t, want, inv); back != doc {
			t.Fatalf("inverse %v gives %q, want %q", inv, back, doc)
		}
	})
}

// FuzzUnmarshalJSON: the decoder never panics, accepts only valid JSON,
// fails only with the documented sentinels, and what it accepts round-trips.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`[]`, `[3,"abc",{"d":2}]`, `[{"d":"😭"}]`, `["\ud83d\ude2d"]`, `["\ud83d"]`,
		`[1.5]`, `[0]`, `[{"d":""}]`, `[{}]`, `null`, `[[1]]`, `[true]`, ` [ 1 , "" ] `,
		"[\"\xff\"]", `["\u0000\n\"\\"]`, `[{"d":1,"e":2}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var op Op
		err := op.UnmarshalJSON(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("UnmarshalJSON(%q): %v wraps no sentinel", data, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("UnmarshalJSON accepted invalid JSON %q", data)
		}
		if err := op.Check(); err != nil {
			t.Fatalf("UnmarshalJSON(%q) = %v fails Check: %v", data, op, err)
		}
		enc, err := json.Marshal(op)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", op, err)
		}
		var back Op
		if err := json.Unmarshal(enc, &back); err != nil || !reflect.DeepEqual(back, op) {
			t.Fatalf("round trip of %q: %s decodes to %v, %v; want %v", data, enc, back, err, op)
		}
	})
}

// isNormal reports whether Normalize(op) would equal op.
func isNormal(op Op) bool {
	prev := kindEmpty
	for _, c := range op {
		k := c.kind()
		if k == kindEmpty || k == prev {
			return false
		}
		prev = k
	}
	return prev != kindSkip
}

// FuzzRawComponents: ops built from arbitrary field values (which JSON can
// not express: negative counts, several fields set, a Deleted that does
// not match Delete) never make any function panic, and Apply and Text.Apply
// agree on them.
func FuzzRawComponents(f *testing.F) {
	f.Add("hello", 2, "x", 0, "", 1)
	f.Add("hello", 0, "", 2, "he", 0)
	f.Add("hello", 0, "", 1, "he", 0)
	f.Add("😭😭", -1, "", 0, "", 3)
	f.Add("abc", 1, "y", 1, "", 0)
	f.Add("abc", 0, "", 0, "a", -2)
	f.Fuzz(func(t *testing.T, doc string, skip int, ins string, del int, deleted string, tail int) {
		doc = strings.ToValidUTF8(doc, "?")
		op := Op{{Skip: skip, Insert: ins, Delete: del, Deleted: deleted}, {Skip: tail}}
		want, werr := Apply(doc, op)
		text := NewText(doc)
		_, err := text.Apply(op)
		if (err == nil) != (werr == nil) || (err == nil && text.String() != want) || (err != nil && text.String() != doc) {
			t.Fatalf("%v on %q: Apply %q, %v; Text.Apply %q, %v", op, doc, want, werr, text.String(), err)
		}
		if werr == nil && op.Check() != nil {
			t.Fatalf("Apply accepted %v, which fails Check", op)
		}
		other := Op{Skip(1), Insert("z")}
		Transform(op, other, Left)
		Transform(other, op, Right)
		Compose(op, other)
		Compose(other, op)
		Invert(op)
		MakeInvertible(doc, op)
		Normalize(op)
		TransformPosition(3, op)
		op.MarshalJSON()
		op.BaseLen()
		op.TargetLen()
	})
}
