package provisions

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// bigTreaty returns a treaty of about n code points with the given
// articles and paragraphs (spread evenly), with subparagraphs in every
// third paragraph and cross-references in the text.
func bigTreaty(n, articles, paragraphs int) string {
	var b strings.Builder
	b.WriteString("The States Parties to this Convention,\nRecalling X,\nHave agreed as follows:\n")
	per := paragraphs / articles
	body := n/paragraphs - 40
	filler := strings.Repeat("Each State Party shall, in accordance with article 5, adopt measures. ", body/70+1)[:body]
	p := 0
	for a := 1; a <= articles; a++ {
		if a%30 == 1 {
			fmt.Fprintf(&b, "Chapter %s\n", []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"}[(a/30)%10])
		}
		fmt.Fprintf(&b, "Article %d Title of article %d\n", a, a)
		k := per
		if a <= paragraphs%articles {
			k++
		}
		for i := 1; i <= k; i++ {
			fmt.Fprintf(&b, "%d. %s\n", i, filler)
			if p%3 == 0 {
				b.WriteString("(a) first;\n(b) second.\n")
			}
			p++
		}
	}
	return b.String()
}

func TestBigTreatyShape(t *testing.T) {
	text := bigTreaty(1_200_000, 300, 2000)
	ps := Parse(text)
	count := map[Kind]int{}
	for _, p := range ps {
		count[p.Kind]++
	}
	n := utf8.RuneCountInString(text)
	if count[Article] != 300 || count[Paragraph] != 2000 || n < 1_150_000 || n > 1_250_000 {
		t.Fatalf("%d code points, %v", n, count)
	}
}

// BenchmarkTrackOp is the owner's time per committed op for provisions on
// a 1,200,000-code-point treaty (300 articles, 2,000 paragraphs): apply
// the op to the observer's text and to the register (tracker, locks,
// counts). Ops are one-character inserts in random paragraph bodies, with
// 50 provisions agreed.
func BenchmarkTrackOp(b *testing.B) {
	text := bigTreaty(1_200_000, 300, 2000)
	reg := NewRegister(text, 0)
	tx := ot.NewText(text)
	list := reg.List()
	agreed := 0
	for i := range list {
		if list[i].Kind == Paragraph && agreed < 50 && i%40 == 0 {
			reg.Apply(dr.Op{Rev: reg.Rev() + 1, Op: ot.Op{}, Kind: StatusKind(Agreed), Group: list[i].ID}, tx)
			agreed++
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := tx.Len()
	b.ResetTimer()
	for b.Loop() {
		pos := rng.IntN(n)
		op := ot.Op{ot.Skip(pos), ot.Insert("x")}
		if reg.Locks().Check(op) != nil {
			continue
		}
		tx.Apply(op)
		if err := reg.Apply(dr.Op{Rev: reg.Rev() + 1, Op: op}, tx); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// BenchmarkListing is the provisions listing at a new revision: the
// register's list (structure, ids, statuses) and its JSON.
func BenchmarkListing(b *testing.B) {
	text := bigTreaty(1_200_000, 300, 2000)
	reg := NewRegister(text, 0)
	tx := ot.NewText(text)
	b.ResetTimer()
	for b.Loop() {
		op := ot.Op{ot.Skip(1000), ot.Insert("x")}
		tx.Apply(op)
		reg.Apply(dr.Op{Rev: reg.Rev() + 1, Op: op}, tx)
		list := reg.List()
		if _, err := json.Marshal(list); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is a full parse of the treaty, for comparison.
func BenchmarkParse(b *testing.B) {
	text := bigTreaty(1_200_000, 300, 2000)
	for b.Loop() {
		Parse(text)
	}
}

// BenchmarkTrackTitleOp is typing in an article's title: the line is read
// again, but the provisions' shape (and so the counts) does not change.
func BenchmarkTrackTitleOp(b *testing.B) {
	text := bigTreaty(1_200_000, 300, 2000)
	reg := NewRegister(text, 0)
	tx := ot.NewText(text)
	var at int
	for _, p := range reg.List() {
		if p.Kind == Article && p.Num == "150" {
			at = p.Span[0] + utf8.RuneCountInString("Article 150 Title")
		}
	}
	b.ResetTimer()
	for b.Loop() {
		op := ot.Op{ot.Skip(at), ot.Insert("x")}
		tx.Apply(op)
		if err := reg.Apply(dr.Op{Rev: reg.Rev() + 1, Op: op}, tx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy is the owner's share of a listing at a new revision: the
// copy of the register that the listing is then made from, elsewhere.
func BenchmarkCopy(b *testing.B) {
	reg := NewRegister(bigTreaty(1_200_000, 300, 2000), 0)
	for b.Loop() {
		reg.Copy()
	}
}
