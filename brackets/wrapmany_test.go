package brackets

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/draftroom/draftroom/ot"
)

// TestWrapManyMatchesWrap: one span gives exactly Wrap's op and text (or
// an error when Wrap gives one); many spans give one op whose text has a
// new group for every span placed, each where its Open says.
func TestWrapManyMatchesWrap(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pieces := []string{"a", "b", " ", "[x/y]", "[z]", "/", "\\[", "é", "[open", "close]", " or ", "\n", "[[[[[[[[[[[[[[[[d]]]]]]]]]]]]]]]]"}
	for i := range 2000 {
		var text string
		for range rng.IntN(12) {
			text += pieces[rng.IntN(len(pieces))]
		}
		res := Parse(text)
		n := res.Len
		a := rng.IntN(n + 1)
		b := a + rng.IntN(n-a+1)
		alt := []string{"", "new", "a/b", "[q]"}[rng.IntN(4)]
		ch, err := res.Wrap(a, b, alt)
		op, out, w := res.WrapMany([][2]int{{a, b}}, []string{alt})
		if (err != nil) != (w[0].Err != nil) {
			t.Fatalf("case %d %q [%d,%d) %q: Wrap %v, WrapMany %v", i, text, a, b, alt, err, w[0].Err)
		}
		for _, reason := range []error{ErrSpanRange, ErrSpanCrosses, ErrSpanUnbalanced, ErrSpanEscape, ErrSpanJoins, ErrSpanTooDeep, ErrText} {
			if errors.Is(err, reason) && !errors.Is(w[0].Err, reason) {
				t.Fatalf("case %d %q [%d,%d) %q: Wrap %v, WrapMany %v", i, text, a, b, alt, err, w[0].Err)
			}
		}
		if err == nil && (!reflect.DeepEqual(op, ch.Op) || out != ch.NewText || w[0].Open != ch.Open || w[0].Alternative != ch.Alternative || w[0].Text != wrappedAlt(ch, alt)) {
			t.Fatalf("case %d %q [%d,%d) %q: WrapMany %v %q %+v, Wrap %v %q", i, text, a, b, alt, op, out, w[0], ch.Op, ch.NewText)
		}

		// Several spans.
		var spans [][2]int
		var texts []string
		for p := 0; p < n; {
			s := p + rng.IntN(n-p+1)
			e := s + rng.IntN(min(3, n-s)+1)
			spans = append(spans, [2]int{s, e})
			texts = append(texts, []string{"", "w", "x/y"}[rng.IntN(3)])
			p = e + 1 + rng.IntN(3)
		}
		op, out, ws := res.WrapMany(spans, texts)
		got, err := ot.Apply(text, op)
		if err != nil || got != out {
			t.Fatalf("case %d: the op gives %q (%v), WrapMany says %q", i, got, err, out)
		}
		placed := 0
		for _, w := range ws {
			if w.Err == nil {
				placed++
			}
		}
		if after := Parse(out); len(after.Groups) != len(res.Groups)+placed {
			t.Fatalf("case %d %q spans %v: %d groups after, want %d + %d", i, text, spans, len(after.Groups), len(res.Groups), placed)
		}
	}
}

// wrappedAlt is the proposed alternative of a Wrap as it reads in the new
// group: the escaped text, or for an empty text the span with its '/'
// escaped.
func wrappedAlt(ch Change, text string) string {
	if text != "" {
		return ch.Text
	}
	runes := []rune(ch.NewText)
	inserted := 0
	for _, c := range ch.Op {
		inserted += len([]rune(c.Insert))
	}
	return string(runes[ch.Start+1 : ch.End+inserted-1])
}
