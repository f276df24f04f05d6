package ot

import (
	"math/rand/v2"
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
