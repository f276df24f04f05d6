package ot

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFromDiff(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := [][2]string{
		{"", ""},
		{"", "😭abc"},
		{"😭abc", ""},
		{"hello world", "hello brave world"},
		{"😭😭😭😭😭", "😭😭x😭😭"},
		{"👩‍💻 and 🇫🇷", "👩‍🔬 and 🇨🇦!"},
		{"café", "cafe\u0301"},
		{"مرحبا بالعالم", "مرحبا يا عالم"},
		{"中文文本", "中文的文本"},
	}
	for i := 0; i < 200; i++ {
		a := randText(r, r.IntN(60))
		b := a
		for k := r.IntN(4); k >= 0; k-- {
			b, _ = Apply(b, randOp(r, b))
		}
		cases = append(cases, [2]string{a, b})
	}
	for _, tc := range cases {
		op := FromDiff(tc[0], tc[1])
		if err := op.Check(); err != nil {
			t.Fatalf("FromDiff(%q, %q) = %v: %v", tc[0], tc[1], op, err)
		}
		if !isNormal(op) && len(op) > 0 {
			t.Errorf("FromDiff(%q, %q) = %v is not normal", tc[0], tc[1], op)
		}
		got, err := Apply(tc[0], op)
		if err != nil || got != tc[1] {
			t.Fatalf("FromDiff(%q, %q) = %v gives %q, %v", tc[0], tc[1], op, got, err)
		}
		if _, err := Invert(op); err != nil {
			t.Errorf("FromDiff(%q, %q) = %v is not invertible: %v", tc[0], tc[1], op, err)
		}
	}
	if op := FromDiff("😭😭😭😭😭", "😭😭😭😭"); op.BaseLen() != 5 || op.TargetLen() != 4 {
		t.Errorf("FromDiff counts %d/%d, want 5/4 code points: %v", op.BaseLen(), op.TargetLen(), op)
	}
}

// FuzzFromDiff: for any two texts the op is valid, normal, invertible and
// turns the first into the second.
func FuzzFromDiff(f *testing.F) {
	f.Add("The Parties shall 😭", "The Parties may 😭")
	f.Add("👩‍💻 e\u0301", "👩‍🔬 é")
	f.Add("", "مرحبا")
	f.Add("中文文本\n第二行", "中文的文本\n第三行")
	f.Fuzz(func(t *testing.T, old, new string) {
		old = strings.ToValidUTF8(old, "?")
		new = strings.ToValidUTF8(new, "?")
		op := FromDiff(old, new)
		if err := op.Check(); err != nil {
			t.Fatalf("FromDiff(%q, %q) = %v: %v", old, new, op, err)
		}
		if len(op) > 0 && !isNormal(op) {
			t.Fatalf("FromDiff(%q, %q) = %v is not normal", old, new, op)
		}
		if got, err := Apply(old, op); err != nil || got != new {
			t.Fatalf("FromDiff(%q, %q) = %v gives %q, %v", old, new, op, got, err)
		}
		if _, err := Invert(op); err != nil {
			t.Fatalf("FromDiff(%q, %q) = %v: %v", old, new, op, err)
		}
	})
}
