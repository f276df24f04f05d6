package history

import (
	"fmt"
	"html"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// applySegments rebuilds both texts from a diff and checks every offset.
func checkDiff(t testing.TB, a, b string, segs []Segment) {
	t.Helper()
	var gotA, gotB strings.Builder
	ia, ib := 0, 0
	for i, s := range segs {
		n := utf8.RuneCountInString(s.Text)
		if n == 0 {
			t.Fatalf("segment %d is empty: %+v", i, s)
		}
		if !utf8.ValidString(s.Text) {
			t.Fatalf("segment %d is not valid UTF-8: %q", i, s.Text)
		}
		if i > 0 && segs[i-1].Op == s.Op {
			t.Fatalf("segments %d and %d are both %s", i-1, i, s.Op)
		}
		switch s.Op {
		case OpEqual:
			if s.From != ia || s.To != ia+n {
				t.Fatalf("equal segment %d at [%d,%d), want [%d,%d) in a", i, s.From, s.To, ia, ia+n)
			}
			gotA.WriteString(s.Text)
			gotB.WriteString(s.Text)
			ia += n
			ib += n
		case OpDelete:
			if s.From != ia || s.To != ia+n {
				t.Fatalf("delete segment %d at [%d,%d), want [%d,%d) in a", i, s.From, s.To, ia, ia+n)
			}
			gotA.WriteString(s.Text)
			ia += n
		case OpInsert:
			if s.From != ib || s.To != ib+n {
				t.Fatalf("insert segment %d at [%d,%d), want [%d,%d) in b", i, s.From, s.To, ib, ib+n)
			}
			gotB.WriteString(s.Text)
			ib += n
		default:
			t.Fatalf("segment %d has op %q", i, s.Op)
		}
	}
	if gotA.String() != a {
		t.Fatalf("equal+delete texts give %q, want a = %q", gotA.String(), a)
	}
	if gotB.String() != b {
		t.Fatalf("equal+insert texts give %q, want b = %q", gotB.String(), b)
	}
}

func TestDiffReadsLikeAnEdit(t *testing.T) {
	type seg struct{ Op, Text string }
	tests := []struct {
		name string
		a, b string
		want []seg
	}{
		{"identical", "same text", "same text", []seg{{OpEqual, "same text"}}},
		{"both empty", "", "", nil},
		{"from empty", "", "new 😭", []seg{{OpInsert, "new 😭"}}},
		{"to empty", "old 😭", "", []seg{{OpDelete, "old 😭"}}},
		{"word replaced whole", "The Parties shall cooperate.", "The Parties should cooperate.",
			[]seg{{OpEqual, "The Parties "}, {OpDelete, "shall"}, {OpInsert, "should"}, {OpEqual, " cooperate."}}},
		{"word inserted", "The Parties shall cooperate.", "The Parties shall fully cooperate.",
			[]seg{{OpEqual, "The Parties shall "}, {OpInsert, "fully "}, {OpEqual, "cooperate."}}},
		// " of " is shorter than the changes on both sides: folded.
		{"stranded equality folded", "the delegation of Canada agrees", "we of all Parties agree",
			[]seg{{OpDelete, "the delegation of Canada agrees"}, {OpInsert, "we of all Parties agree"}}},
		// The edit ends where sentences end, not inside the run of spaces.
		{"sentence inserted", "It is. Then", "It is. More. Then",
			[]seg{{OpEqual, "It is."}, {OpInsert, " More."}, {OpEqual, " Then"}}},
		{"other lines kept", "line one\nline two\nline three\n", "line one\nline 2\nline three\n",
			[]seg{{OpEqual, "line one\nline "}, {OpDelete, "two"}, {OpInsert, "2"}, {OpEqual, "\nline three\n"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := Diff(tt.a, tt.b)
			checkDiff(t, tt.a, tt.b, segs)
			var got []seg
			for _, s := range segs {
				got = append(got, seg{s.Op, s.Text})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Diff(%q, %q)\n got %q\nwant %q", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestAlignEdits: an insert found in the middle of a word slides to the
// word boundaries, and the pieces still rebuild both texts.
func TestAlignEdits(t *testing.T) {
	a, b := "The cat came.", "The cat cat came."
	d := differ{a: []rune(a), b: []rune(b)}
	// "The c" + [+"at c"+] + "at came.": exact, but cut inside words.
	got := d.alignEdits([]piece{{OpEqual, 5}, {OpInsert, 4}, {OpEqual, 8}})
	want := []piece{{OpEqual, 8}, {OpInsert, 4}, {OpEqual, 5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("alignEdits = %v, want %v", got, want)
	}
	checkDiff(t, a, b, d.segments(got))
	// Sliding all the way to an end drops the emptied equality.
	a, b = "ab", "abab"
	d = differ{a: []rune(a), b: []rune(b)}
	got = d.alignEdits([]piece{{OpEqual, 1}, {OpInsert, 2}, {OpEqual, 1}})
	checkDiff(t, a, b, d.segments(got))
}

// TestDiffCodePointOffsets: offsets count code points, whatever UTF-8 and
// UTF-16 think: astral emoji, flags (two code points), combining marks.
func TestDiffCodePointOffsets(t *testing.T) {
	a := "😭😭 𝔸𝔹 shall 🇫🇷 e\u0301te"
	b := "😭😭 𝔸𝔹 may 🇫🇷 e\u0301te 👍🏽"
	segs := Diff(a, b)
	checkDiff(t, a, b, segs)
	want := []Segment{
		{Op: OpEqual, Text: "😭😭 𝔸𝔹 ", From: 0, To: 6},
		{Op: OpDelete, Text: "shall", From: 6, To: 11},
		{Op: OpInsert, Text: "may", From: 6, To: 9},
		// " 🇫🇷 e\u0301te": a flag is two code points, e + U+0301 two.
		{Op: OpEqual, Text: " 🇫🇷 e\u0301te", From: 11, To: 19},
		// In b: 6 + len("may") + 8 = 17; " 👍🏽" is three code points.
		{Op: OpInsert, Text: " 👍🏽", From: 17, To: 20},
	}
	if !reflect.DeepEqual(segs, want) {
		t.Fatalf("Diff\n got %+v\nwant %+v", segs, want)
	}
}

// randomText draws words, spaces, newlines, punctuation and astral text.
func randomText(rng *rand.Rand, words int) string {
	pool := []string{"shall", "may", "the", "Parties", "😭", "𝔸𝔹", "é", "汉字", " ", " ", " ", "\n", ",", ".", "[", "]", "🇫🇷", "e\u0301"}
	var sb strings.Builder
	for i := 0; i < words; i++ {
		sb.WriteString(pool[rng.IntN(len(pool))])
	}
	return sb.String()
}

// mutate applies a few random edits to text.
func mutate(rng *rand.Rand, text string) string {
	r := []rune(text)
	for k := rng.IntN(6); k >= 0; k-- {
		pos := rng.IntN(len(r) + 1)
		switch rng.IntN(3) {
		case 0:
			r = append(r[:pos], append([]rune(randomText(rng, 1+rng.IntN(5))), r[pos:]...)...)
		case 1:
			end := min(len(r), pos+rng.IntN(12))
			r = append(r[:pos], r[end:]...)
		default:
			end := min(len(r), pos+rng.IntN(8))
			r = append(r[:pos], append([]rune(randomText(rng, 1+rng.IntN(3))), r[end:]...)...)
		}
	}
	return string(r)
}

func TestDiffProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		a := randomText(rng, rng.IntN(60))
		b := mutate(rng, a)
		if i%10 == 0 {
			b = randomText(rng, rng.IntN(60)) // unrelated texts too
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkDiff(t, a, b, Diff(a, b))
		})
		if t.Failed() {
			return
		}
	}
}

func FuzzDiff(f *testing.F) {
	f.Add("The Parties shall cooperate.", "The Parties may fully cooperate.")
	f.Add("😭😭😭😭😭", "😭😭😭abc")
	f.Add("a\nb\nc\n", "a\nB\nc")
	f.Add("", "x")
	f.Add("\U0010FFFF\uFFFD\u0000", "\u0000\U0010FFFF")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			t.Skip("drafts are valid UTF-8")
		}
		checkDiff(t, a, b, Diff(a, b))
	})
}

// TestDiffTimeout: with no time left the diff is coarse but still exact.
func TestDiffTimeout(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a := randomText(rng, 3000)
	b := mutate(rng, mutate(rng, a))
	segs := DiffWithin(a, b, time.Nanosecond)
	checkDiff(t, a, b, segs)
	full := DiffWithin(a, b, 0)
	checkDiff(t, a, b, full)
	if len(full) <= len(segs) {
		t.Logf("full diff %d segments, timed-out diff %d", len(full), len(segs))
	}
}

func TestDiffHTMLEscapes(t *testing.T) {
	a := `keep <b>&amp; "quote"`
	b := `keep <script>alert('x')</script> & "quote"`
	got := DiffHTML(Diff(a, b))
	// Without our own tags, no markup is left, and unescaping gives back
	// the texts: every character of the input was escaped.
	bare := strings.NewReplacer("<ins>", "", "</ins>", "", "<del>", "", "</del>", "").Replace(got)
	if strings.ContainsAny(bare, "<>\"'") {
		t.Fatalf("DiffHTML left markup unescaped: %s", got)
	}
	dropIns := regexp.MustCompile(`<ins>.*?</ins>`).ReplaceAllString(got, "")
	dropDel := regexp.MustCompile(`<del>.*?</del>`).ReplaceAllString(got, "")
	tags := strings.NewReplacer("<ins>", "", "</ins>", "", "<del>", "", "</del>", "")
	if back := html.UnescapeString(tags.Replace(dropIns)); back != a {
		t.Fatalf("old text from DiffHTML = %q, want %q", back, a)
	}
	if back := html.UnescapeString(tags.Replace(dropDel)); back != b {
		t.Fatalf("new text from DiffHTML = %q, want %q", back, b)
	}
	if got := DiffHTML([]Segment{{Op: OpEqual, Text: "a"}, {Op: OpInsert, Text: "<i>"}, {Op: OpDelete, Text: "&"}}); got != "a<ins>&lt;i&gt;</ins><del>&amp;</del>" {
		t.Fatalf("DiffHTML = %q", got)
	}
}

func TestAttribute(t *testing.T) {
	// b = "ab" (initial) + "C" "D" (Ana, revs 1 and 3) + "E" (Ben, rev 2) + "f".
	spans := []Span{
		{Start: 0, End: 2, Rev: 0},
		{Start: 2, End: 3, Rev: 1, Delegation: "CAN", Name: "Ana"},
		{Start: 3, End: 4, Rev: 3, Delegation: "CAN", Name: "Ana"},
		{Start: 4, End: 5, Rev: 2, Delegation: "USA", Name: "Ben"},
		{Start: 5, End: 6, Rev: 0},
	}
	segs := []Segment{
		{Op: OpEqual, Text: "ab", From: 0, To: 2},
		{Op: OpInsert, Text: "CDE", From: 2, To: 5},
		{Op: OpEqual, Text: "f", From: 2, To: 3},
	}
	got := Attribute(segs, spans)
	want := []Segment{
		{Op: OpEqual, Text: "ab", From: 0, To: 2},
		{Op: OpInsert, Text: "CD", From: 2, To: 4, Rev: 3, Delegation: "CAN", Name: "Ana"},
		{Op: OpInsert, Text: "E", From: 4, To: 5, Rev: 2, Delegation: "USA", Name: "Ben"},
		{Op: OpEqual, Text: "f", From: 2, To: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Attribute\n got %+v\nwant %+v", got, want)
	}
	if h := DiffHTML(got); !strings.Contains(h, `<ins title="CAN Ana">CD</ins>`) {
		t.Fatalf("DiffHTML of attributed segments = %s", h)
	}
	h := DiffHTML([]Segment{{Op: OpDelete, Text: "x", Delegation: `"><script>`, Name: "Ben"}})
	if h != `<del title="&#34;&gt;&lt;script&gt; Ben">x</del>` {
		t.Fatalf("DiffHTML of an attributed delete = %s", h)
	}
}

// TestDiffTraceRevisions diffs revisions of the automerge-paper trace
// 50,000 edits apart and checks the diff is exact and not the coarse
// fallback (which would be one delete and one insert of everything).
func TestDiffTraceRevisions(t *testing.T) {
	tr := loadTrace(t, "automerge-paper.json.gz")
	texts := textsAt(tr, 150000, 200000)
	a, b := texts[150000], texts[200000]
	start := time.Now()
	segs := Diff(a, b)
	took := time.Since(start)
	checkDiff(t, a, b, segs)
	if len(segs) < 20 {
		t.Fatalf("Diff of revisions 150000..200000 has %d segments: coarse", len(segs))
	}
	t.Logf("diff of %d and %d code points: %d segments in %v", utf8.RuneCountInString(a), utf8.RuneCountInString(b), len(segs), took)
}

// textsAt replays the trace and returns the texts at the given revisions.
func textsAt(tr *trace, revs ...int) map[int]string {
	want := map[int]bool{}
	for _, r := range revs {
		want[r] = true
	}
	out := map[int]string{}
	g := newGapText(tr.start)
	if want[0] {
		out[0] = tr.start
	}
	for i, op := range tr.ops {
		g.apply(op)
		if want[i+1] {
			out[i+1] = g.String()
		}
	}
	return out
}

// TestDiffLopsided: a short text against a long one that repeats its
// words (no unique anchors) takes the shortcut and is still exact.
func TestDiffLopsided(t *testing.T) {
	a := strings.Repeat("the Parties shall, ", 60) + "\n"
	b := strings.Repeat("the Parties may shall the, ", 1500) + "\n"
	start := time.Now()
	segs := Diff(a, b)
	checkDiff(t, a, b, segs)
	t.Logf("%d segments in %v", len(segs), time.Since(start))
	// Same words, comparable lengths: compared word by word.
	c := strings.Repeat("the Parties shall, ", 58) + "the Parties may, the Parties shall, \n"
	segs = Diff(a, c)
	checkDiff(t, a, c, segs)
	if len(segs) < 3 || segs[0].Op != OpEqual {
		t.Fatalf("a one-word change in a long line: %+v", segs)
	}
}

// TestTokenRunes: token numbers map to distinct valid runes, past the
// surrogate range, and a diff with more distinct lines than there are
// runes below the surrogates is exact.
func TestTokenRunes(t *testing.T) {
	seen := map[rune]int{}
	for _, i := range []int{0, 1, 0xD7FF, 0xD800, 0xD801, 0xDFFF, 0xE000, maxTokens - 1} {
		r := tokenRune(i)
		if !utf8.ValidRune(r) || []rune(string(r))[0] != r {
			t.Fatalf("tokenRune(%#x) = %#x does not survive a string", i, r)
		}
		if j, dup := seen[r]; dup {
			t.Fatalf("tokenRune(%#x) == tokenRune(%#x)", i, j)
		}
		seen[r] = i
	}
	if testing.Short() {
		t.Skip("60,000-line diff skipped in -short")
	}
	var lines strings.Builder
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&lines, "line %d\n", i)
	}
	a := "first A\n" + lines.String() + "last Z"
	b := "first B\n" + strings.Replace(lines.String(), "line 57000\n", "line 57000 changed\n", 1) + "last Y"
	segs := Diff(a, b)
	checkDiff(t, a, b, segs)
	if len(segs) > 12 {
		t.Fatalf("%d segments for three changed lines", len(segs))
	}
}

// TestTokenizerCollisions: tokens whose hashes collide still get their own
// numbers, and equal tokens the same one.
func TestTokenizerCollisions(t *testing.T) {
	text := []rune("ab|cd|ab|😭|cd|")
	lens := []int{2, 1, 2, 1, 2, 1, 1, 1, 2, 1}
	for _, hash := range []func([]rune) uint64{fnv1a, func([]rune) uint64 { return 7 }} {
		tk := tokenizer{hash: hash}
		got := tk.encode(text, lens)
		want := []int32{0, 1, 2, 1, 0, 1, 3, 1, 2, 1}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("encode = %v, want %v", got, want)
		}
	}
}
