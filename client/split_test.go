package client

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// randText draws text from runes that stress the size accounting: ASCII,
// characters encoding/json escapes (quotes, <, control characters,
// U+2028), Arabic, Chinese and emoji.
func randText(r *rand.Rand, n int) string {
	alphabet := []rune("ab \"\\<&\n\t\x01\u2028شكر中文😭🇨🇦")
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randOp(r *rand.Rand, doc string, big int) ot.Op {
	n := utf8.RuneCountInString(doc)
	var op ot.Op
	pos := 0
	for pos < n || r.IntN(3) == 0 {
		switch k := r.IntN(4); {
		case k == 0 && pos < n:
			s := 1 + r.IntN(n-pos)
			op = append(op, ot.Skip(s))
			pos += s
		case k == 1:
			op = append(op, ot.Insert(randText(r, 1+r.IntN(big))))
		case k == 2 && pos < n:
			del := 1 + r.IntN(n-pos)
			if r.IntN(2) == 0 {
				op = append(op, ot.Delete(del))
			} else {
				op = append(op, ot.DeleteText(string([]rune(doc)[pos:pos+del])))
			}
			pos += del
		default:
			if pos >= n {
				return ot.Normalize(op)
			}
		}
	}
	return ot.Normalize(op)
}

// The pieces of a split op, applied one after the other, give what the op
// gives; each fits the budget as an op message; the draft never grows
// beyond the longer of its lengths before and after.
func TestSplitOpProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	split := 0
	for i := range 300 {
		doc := randText(r, r.IntN(3000))
		op := randOp(r, doc, 4000)
		maxBytes := minOpBytes + r.IntN(4000)
		want, err := ot.Apply(doc, op)
		if err != nil {
			t.Fatalf("case %d: bad generated op: %v", i, err)
		}
		limit := max(utf8.RuneCountInString(doc), utf8.RuneCountInString(want))
		pieces := splitOp(op, maxBytes)
		if len(pieces) > 1 {
			split++
		}
		got := doc
		for k, p := range pieces {
			msg, err := json.Marshal(opMsg{Type: "op", Doc: strings.Repeat("d", 128), Rev: 1 << 62, Seq: 1 << 63, Op: p})
			if err != nil {
				t.Fatalf("case %d piece %d: %v", i, k, err)
			}
			if len(msg) > maxBytes {
				t.Fatalf("case %d piece %d: message of %d bytes, budget %d", i, k, len(msg), maxBytes)
			}
			if got, err = ot.Apply(got, p); err != nil {
				t.Fatalf("case %d piece %d does not apply: %v", i, k, err)
			}
			if n := utf8.RuneCountInString(got); n > limit {
				t.Fatalf("case %d piece %d: draft grew to %d, beyond %d", i, k, n, limit)
			}
		}
		if got != want {
			t.Fatalf("case %d: pieces give %q, op gives %q", i, got, want)
		}
	}
	if split < 100 {
		t.Fatalf("only %d of 300 ops were split: the cases do not test splitting", split)
	}
}

// A small op is not split; a 1 MB paste is, into pieces near the budget.
func TestSplitOpSizes(t *testing.T) {
	t.Parallel()
	small := ot.Op{ot.Skip(3), ot.Insert("shall"), ot.DeleteText("may")}
	if got := splitOp(small, DefaultMaxOpBytes); len(got) != 1 {
		t.Fatalf("small op split in %d", len(got))
	}
	paste := ot.Op{ot.Skip(10), ot.Insert(strings.Repeat("The Parties shall cooperate. ", 36_000))} // ~1 MB
	pieces := splitOp(paste, DefaultMaxOpBytes)
	if len(pieces) < 4 || len(pieces) > 6 {
		t.Fatalf("1 MB paste in %d pieces of 256 KiB, want 4-6", len(pieces))
	}
}

// FuzzSplitOp: any replace of a stretch of any text, split under any
// budget, gives the same text through its pieces, each within the budget.
func FuzzSplitOp(f *testing.F) {
	f.Add("States Parties [shall] act", 7, 3, "<must> & \"should\" 😭", 1100)
	f.Add(strings.Repeat("ab", 600), 0, 1200, strings.Repeat("\x01<", 700), 1024)
	f.Fuzz(func(t *testing.T, doc string, pos, del int, ins string, maxBytes int) {
		if !utf8.ValidString(doc) || !utf8.ValidString(ins) {
			return
		}
		n := utf8.RuneCountInString(doc)
		pos = min(max(pos, 0), n)
		del = min(max(del, 0), n-pos)
		maxBytes = minOpBytes + (max(maxBytes, 0) % 8192)
		runes := []rune(doc)
		op := ot.Normalize(ot.Op{ot.Skip(pos), ot.DeleteText(string(runes[pos : pos+del])), ot.Insert(ins)})
		want, err := ot.Apply(doc, op)
		if err != nil {
			t.Skip()
		}
		got := doc
		for _, p := range splitOp(op, maxBytes) {
			msg, _ := json.Marshal(opMsg{Type: "op", Doc: strings.Repeat("d", 128), Rev: 1 << 62, Seq: 1 << 63, Op: p})
			if len(msg) > maxBytes {
				t.Fatalf("message of %d bytes, budget %d", len(msg), maxBytes)
			}
			if got, err = ot.Apply(got, p); err != nil {
				t.Fatal(err)
			}
		}
		if got != want {
			t.Fatalf("pieces give %q, want %q", got, want)
		}
	})
}
