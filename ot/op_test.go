package ot

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// mustOp decodes an op from its JSON form, failing the test on error.
func mustOp(t testing.TB, s string) Op {
	t.Helper()
	var op Op
	if err := json.Unmarshal([]byte(s), &op); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return op
}

func opJSON(t testing.TB, op Op) string {
	t.Helper()
	b, err := json.Marshal(op)
	if err != nil {
		t.Fatalf("encode %v: %v", op, err)
	}
	return string(b)
}

func TestApplyProtocolExamples(t *testing.T) {
	op := mustOp(t, `[3, "abc", {"d": 2}]`)
	for _, tc := range []struct{ doc, want string }{
		{"hello world", "helabc world"},
		{"😭😭😭😭😭", "😭😭😭abc"},
	} {
		got, err := Apply(tc.doc, op)
		if err != nil || got != tc.want {
			t.Errorf("Apply(%q, %v) = %q, %v; want %q", tc.doc, op, got, err, tc.want)
		}
		text := NewText(tc.doc)
		if _, err := text.Apply(op); err != nil || text.String() != tc.want {
			t.Errorf("Text(%q).Apply(%v) = %q, %v; want %q", tc.doc, op, text.String(), err, tc.want)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		op   Op
		want error
	}{
		{"abc", Op{Skip(4)}, ErrSkipPastEnd},
		{"abc", Op{Skip(3), Insert("x")}, nil},
		{"😭😭", Op{Skip(3)}, ErrSkipPastEnd},
		{"abc", Op{Skip(1), Delete(3)}, ErrDeletePastEnd},
		{"abc", Op{Delete(3)}, nil},
		{"abc", Op{DeleteText("ab")}, nil},
		{"abc", Op{DeleteText("ax")}, ErrDeleteMismatch},
		{"abc", Op{Skip(2), DeleteText("cd")}, ErrDeletePastEnd},
		{"abc", Op{Component{}}, ErrMalformed},
		{"abc", Op{Skip(-1)}, ErrMalformed},
		{"abc", Op{Component{Skip: 1, Insert: "x"}}, ErrMalformed},
		{"abc", Op{Component{Delete: 1, Deleted: "xy"}}, ErrMalformed},
		{"abc", Op{Component{Deleted: "a"}}, ErrMalformed},
		{"abc", Op{Insert("a\xffb")}, ErrInvalidUTF8},
		{"a\xffc", Op{Insert("x")}, ErrInvalidUTF8},
	} {
		_, err := Apply(tc.doc, tc.op)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Apply(%q, %v) error %v, want %v", tc.doc, tc.op, err, tc.want)
		}
	}
}

func TestUnmarshalMalformed(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`[0]`, ErrMalformed},
		{`[-1]`, ErrMalformed},
		{`[1.5]`, ErrMalformed},
		{`[1.0]`, ErrMalformed},
		{`[1e3]`, ErrMalformed},
		{`[01]`, ErrMalformed},
		{`[{"d":0}]`, ErrMalformed},
		{`[{"d":-2}]`, ErrMalformed},
		{`[{"d":1.5}]`, ErrMalformed},
		{`[{"d":""}]`, ErrMalformed},
		{`[{"d":null}]`, ErrMalformed},
		{`[{"d":true}]`, ErrMalformed},
		{`[{}]`, ErrMalformed},
		{`[{"i":"x"}]`, ErrMalformed},
		{`[{"d":1,"x":2}]`, ErrMalformed},
		{`[{"d":1,"d":2}]`, ErrMalformed},
		{`[null]`, ErrMalformed},
		{`[true]`, ErrMalformed},
		{`[false]`, ErrMalformed},
		{`[[1]]`, ErrMalformed},
		{`[[]]`, ErrMalformed},
		{`null`, ErrMalformed},
		{`{}`, ErrMalformed},
		{`"abc"`, ErrMalformed},
		{`3`, ErrMalformed},
		{`[1,]`, ErrMalformed},
		{`[,1]`, ErrMalformed},
		{`[1 2]`, ErrMalformed},
		{`[1`, ErrMalformed},
		{`[1] x`, ErrMalformed},
		{`["a` + "\n" + `"]`, ErrMalformed},
		{`["\x"]`, ErrMalformed},
		{`["\u12"]`, ErrMalformed},
		{`[9007199254740992]`, ErrMalformed},
		{`[99999999999999999999999]`, ErrMalformed},
		{"[\"a\xffb\"]", ErrInvalidUTF8},
		{"[{\"d\":\"\xc3\"}]", ErrInvalidUTF8},
		{`["\ud83d"]`, ErrInvalidUTF8},
		{`["\ude2d"]`, ErrInvalidUTF8},
		{`["\ud83dx"]`, ErrInvalidUTF8},
		{`["\ud83d\u0041"]`, ErrInvalidUTF8},
		{`[{"d":"\udc00"}]`, ErrInvalidUTF8},
	} {
		op := Op{Skip(7)}
		err := op.UnmarshalJSON([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("UnmarshalJSON(%s) error %v, want %v", tc.in, err, tc.want)
		}
		if !reflect.DeepEqual(op, Op{Skip(7)}) {
			t.Errorf("UnmarshalJSON(%s) changed the op to %v on error", tc.in, op)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Op
		out  string
	}{
		{`[]`, Op{}, `[]`},
		{` [ 3 , "abc" , { "d" : 2 } ] `, Op{Skip(3), Insert("abc"), Delete(2)}, `[3,"abc",{"d":2}]`},
		{`[{"d":"😭x"}]`, Op{DeleteText("😭x")}, `[{"d":"😭x"}]`},
		{`["\ud83d\ude2d\u00e9\n\"\\\/\t\b\f\r\u0000"]`, Op{Insert("😭é\n\"\\/\t\b\f\r\x00")}, `["😭é\n\"\\/\t\b\f\r\u0000"]`},
		{`[2,"",3]`, Op{Skip(2), Skip(3)}, `[2,3]`},
		{`[""]`, Op{}, `[]`},
		{`[9007199254740991]`, Op{Skip(MaxLen)}, `[9007199254740991]`},
		{`["a\u2028b"]`, Op{Insert("a\u2028b")}, `["a\u2028b"]`},
	} {
		op := mustOp(t, tc.in)
		if !reflect.DeepEqual(op, tc.want) {
			t.Errorf("decode %s = %#v, want %#v", tc.in, op, tc.want)
		}
		b, err := op.MarshalJSON()
		if err != nil || string(b) != tc.out {
			t.Errorf("encode %#v = %s, %v; want %s", op, b, err, tc.out)
		}
	}
	if got := opJSON(t, nil); got != "[]" {
		t.Errorf("nil op encodes as %s, want []", got)
	}
	if _, err := json.Marshal(Op{Insert("\xff")}); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("encoding invalid UTF-8: error %v, want ErrInvalidUTF8", err)
	}
	if _, err := json.Marshal(Op{{}}); !errors.Is(err, ErrMalformed) {
		t.Errorf("encoding an empty component: error %v, want ErrMalformed", err)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want Op }{
		{nil, Op{}},
		{Op{Skip(3)}, Op{}},
		{Op{Skip(1), Skip(2), Insert("a"), Insert("b"), Component{}, Delete(1), Delete(2), Skip(4)},
			Op{Skip(3), Insert("ab"), Delete(3)}},
		{Op{DeleteText("a"), DeleteText("😭")}, Op{DeleteText("a😭")}},
		{Op{DeleteText("a"), Delete(2)}, Op{Delete(3)}},
		{Op{Insert("x"), Skip(2), Insert(""), Skip(1)}, Op{Insert("x")}},
	} {
		got := Normalize(tc.in)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Normalize(%v) = %#v, want %#v", tc.in, got, tc.want)
		}
		if !isNormal(got) {
			t.Errorf("isNormal(Normalize(%v)) = false", tc.in)
		}
	}
	in := Op{Insert("a"), Insert("b")}
	Normalize(in)
	if in[0].Insert != "a" {
		t.Errorf("Normalize modified its argument: %v", in)
	}
}

func TestLens(t *testing.T) {
	op := Op{Skip(3), Insert("😭é"), DeleteText("ab"), Delete(4), Skip(1)}
	if got := op.BaseLen(); got != 10 {
		t.Errorf("BaseLen = %d, want 10", got)
	}
	if got := op.TargetLen(); got != 6 {
		t.Errorf("TargetLen = %d, want 6", got)
	}
}

func TestTransformTable(t *testing.T) {
	for _, tc := range []struct {
		op, other string
		side      Side
		want      string
	}{
		// Same-position inserts: the left op goes first.
		{`[2,"a"]`, `[2,"b"]`, Left, `[2,"a"]`},
		{`[2,"a"]`, `[2,"b"]`, Right, `[3,"a"]`},
		{`["a"]`, `["b"]`, Left, `["a"]`},
		{`["a"]`, `["b"]`, Right, `[1,"a"]`},
		// Inserts after other's insert shift by its code points.
		{`[4,"x"]`, `[1,"😭😭"]`, Left, `[6,"x"]`},
		// Deletes of the same text happen once.
		{`[1,{"d":3}]`, `[2,{"d":3}]`, Left, `[1,{"d":1}]`},
		{`[1,{"d":"bcd"}]`, `[2,{"d":3}]`, Left, `[1,{"d":"b"}]`},
		// An insert inside deleted text survives.
		{`[3,"x"]`, `[1,{"d":5}]`, Left, `[1,"x"]`},
		// A delete spanning other's insert splits around it.
		{`[1,{"d":"bcd"}]`, `[2,"XY"]`, Left, `[1,{"d":"b"},2,{"d":"cd"}]`},
		{`[]`, `[3,"x"]`, Left, `[]`},
		{`[5,"x"]`, `[]`, Right, `[5,"x"]`},
	} {
		got, err := Transform(mustOp(t, tc.op), mustOp(t, tc.other), tc.side)
		if err != nil {
			t.Errorf("Transform(%s, %s, %v): %v", tc.op, tc.other, tc.side, err)
			continue
		}
		if s := opJSON(t, got); s != tc.want {
			t.Errorf("Transform(%s, %s, %v) = %s, want %s", tc.op, tc.other, tc.side, s, tc.want)
		}
	}
	if _, err := Transform(Op{Skip(0)}, nil, Left); !errors.Is(err, ErrMalformed) {
		t.Errorf("Transform of a malformed op: %v, want ErrMalformed", err)
	}
	if _, err := Transform(nil, Op{Insert("\xff")}, Left); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("Transform by an invalid op: %v, want ErrInvalidUTF8", err)
	}
	if _, err := Transform(nil, nil, Side(7)); !errors.Is(err, ErrMalformed) {
		t.Errorf("Transform with side 7: %v, want ErrMalformed", err)
	}
}

func TestComposeTable(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{`[3,"abc"]`, `[6,"d"]`, `[3,"abcd"]`},
		{`[3,"abc"]`, `[4,{"d":1}]`, `[3,"ac"]`},
		{`[{"d":"ab"}]`, `["x"]`, `["x",{"d":"ab"}]`},
		{`[1,"😭é"]`, `[{"d":"a😭"}]`, `[{"d":"a"},"é"]`},
		{`[2,{"d":"cd"}]`, `[1,{"d":"bef"}]`, `[1,{"d":"bcdef"}]`},
		{`[2,{"d":2}]`, `[1,{"d":"bef"}]`, `[1,{"d":5}]`},
		{`[]`, `[]`, `[]`},
	} {
		got, err := Compose(mustOp(t, tc.a), mustOp(t, tc.b))
		if err != nil {
			t.Errorf("Compose(%s, %s): %v", tc.a, tc.b, err)
			continue
		}
		if s := opJSON(t, got); s != tc.want {
			t.Errorf("Compose(%s, %s) = %s, want %s", tc.a, tc.b, s, tc.want)
		}
	}
	if _, err := Compose(Op{Delete(-2)}, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("Compose of a malformed op: %v, want ErrMalformed", err)
	}
}

func TestTransformPositionTable(t *testing.T) {
	for _, tc := range []struct {
		pos  int
		op   string
		want int
	}{
		{0, `["abc"]`, 0},
		{1, `["abc"]`, 4},
		{3, `[3,"x"]`, 3},
		{4, `[3,"x"]`, 5},
		{4, `[1,{"d":2}]`, 2},
		{2, `[1,{"d":3}]`, 1},
		{5, `[1,{"d":2},"😭😭"]`, 5},
		{10, `[2,"ab",{"d":1}]`, 11},
	} {
		if got := TransformPosition(tc.pos, mustOp(t, tc.op)); got != tc.want {
			t.Errorf("TransformPosition(%d, %s) = %d, want %d", tc.pos, tc.op, got, tc.want)
		}
	}
	if got := TransformSelection([2]int{4, 1}, mustOp(t, `[1,"ab"]`)); got != [2]int{6, 1} {
		t.Errorf("TransformSelection = %v, want [6 1]", got)
	}
}

func TestInvertTable(t *testing.T) {
	doc := "hello world"
	op := mustOp(t, `[3,"abc",{"d":2}]`)
	if _, err := Invert(op); !errors.Is(err, ErrNotInvertible) {
		t.Errorf("Invert of {d:N}: %v, want ErrNotInvertible", err)
	}
	inv, err := MakeInvertible(doc, op)
	if err != nil || opJSON(t, inv) != `[3,"abc",{"d":"lo"}]` {
		t.Fatalf("MakeInvertible = %v, %v", inv, err)
	}
	undo, err := Invert(inv)
	if err != nil || opJSON(t, undo) != `[3,{"d":"abc"},"lo"]` {
		t.Fatalf("Invert = %v, %v", undo, err)
	}
	after, _ := Apply(doc, op)
	back, err := Apply(after, undo)
	if err != nil || back != doc {
		t.Errorf("undo gives %q, %v; want %q", back, err, doc)
	}
	if _, err := MakeInvertible(doc, Op{DeleteText("x")}); !errors.Is(err, ErrDeleteMismatch) {
		t.Errorf("MakeInvertible mismatch: %v", err)
	}
	if _, err := MakeInvertible("ab", Op{Skip(1), Delete(2)}); !errors.Is(err, ErrDeletePastEnd) {
		t.Errorf("MakeInvertible past end: %v", err)
	}
}

func TestErrorMessagesAreShort(t *testing.T) {
	long := strings.Repeat("ж", 100000)
	_, err := Apply("abc", Op{DeleteText(long)})
	if !errors.Is(err, ErrDeletePastEnd) {
		t.Fatalf("error %v, want ErrDeletePastEnd", err)
	}
	_, err = Apply(long+"x", Op{DeleteText(long[:len(long)-2] + "y")})
	if !errors.Is(err, ErrDeleteMismatch) || len(err.Error()) > 300 {
		t.Errorf("mismatch error of %d bytes: %.200v", len(err.Error()), err)
	}
	_, err = NewText(long + "x").Apply(Op{DeleteText(long[:len(long)-2] + "y")})
	if !errors.Is(err, ErrDeleteMismatch) || len(err.Error()) > 300 {
		t.Errorf("Text mismatch error of %d bytes: %.200v", len(err.Error()), err)
	}
	err = Op{Insert(long + "\xff")}.Check()
	if !errors.Is(err, ErrInvalidUTF8) || len(err.Error()) > 300 {
		t.Errorf("invalid UTF-8 error of %d bytes: %.200v", len(err.Error()), err)
	}
}
