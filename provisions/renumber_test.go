package provisions

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

func TestRenumberGolden(t *testing.T) {
	tests := []struct {
		name, in, want string
		refs           int
		unresolved     []string // reasons
	}{
		{
			name: "English convention with bis and ter",
			in: `The States Parties to this Convention,
PP1 Recalling X,
PP1 bis Noting Y,
Chapter I General provisions
Article 1 Scope
1. This Convention applies as set out in articles 2 to 2 bis.
1 bis. Nothing in paragraph 2 affects article 2 bis.
2. Subject to paragraph 1 bis of this article and to article 3, paragraph 2, States shall act.
Article 2
1. Each State Party shall, under subparagraph (b), adopt:
(a) measures;
(a bis) other measures;
(b) rules as in subparagraph (a bis) of paragraph 1.
Article 2 bis Jurisdiction
1. Without prejudice to article 2 of the Charter of the United Nations and articles 1, 2 bis and 3.
Chapter I bis
Article 3
1. X.
1 bis. Y.
2. As paragraph 1 bis of article 3 and paragraph 2 of article 1 say; see article 99.
`,
			want: `The States Parties to this Convention,
PP1 Recalling X,
PP2 Noting Y,
Chapter I General provisions
Article 1 Scope
1. This Convention applies as set out in articles 2 to 3.
2. Nothing in paragraph 3 affects article 3.
3. Subject to paragraph 2 of this article and to article 4, paragraph 3, States shall act.
Article 2
1. Each State Party shall, under subparagraph (c), adopt:
(a) measures;
(b) other measures;
(c) rules as in subparagraph (b) of paragraph 1.
Article 3 Jurisdiction
1. Without prejudice to article 2 of the Charter of the United Nations and articles 1, 3 and 4.
Chapter II
Article 4
1. X.
2. Y.
3. As paragraph 2 of article 4 and paragraph 3 of article 1 say; see article 99.
`,
			refs:       13,
			unresolved: []string{"no article 99 here"},
		},
		{
			name: "French",
			in: `Article premier – Objet
1. Voir l'article 1 bis et les articles 2 à 3.
Article 1 bis
1. Le paragraphe 2 du présent article et le paragraphe 1 de l'article 3.
1 bis. Texte.
2. Selon l'alinéa b) du paragraphe 1.
a) un;
a bis) deux;
b) trois.
Article 2
Article 3
1. Texte.
`,
			want: `Article premier – Objet
1. Voir l'article 2 et les articles 3 à 4.
Article 2
1. Le paragraphe 3 du présent article et le paragraphe 1 de l'article 4.
2. Texte.
3. Selon l'alinéa b) du paragraphe 1.
a) un;
b) deux;
c) trois.
Article 3
Article 4
1. Texte.
`,
			refs: 5,
			// "alinéa b) du paragraphe 1": paragraph 1 of article 2 has no
			// subparagraphs (they are under paragraph 3).
			unresolved: []string{"no subparagraph b here"},
		},
		{
			name: "already numbered",
			in:   "Article 1\n1. See article 2, paragraph 1.\nArticle 2\n1. X.\n",
			want: "Article 1\n1. See article 2, paragraph 1.\nArticle 2\n1. X.\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Renumber(tc.in)
			if r.Text != tc.want {
				t.Errorf("renumbered:\n%s\nwant:\n%s", r.Text, tc.want)
				gl, wl := strings.Split(r.Text, "\n"), strings.Split(tc.want, "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Errorf("line %d: %q, want %q", i, gl[i], wl[i])
					}
				}
			}
			if got, err := ot.Apply(tc.in, r.Op); err != nil || got != r.Text {
				t.Errorf("the op gives %q, %v", got, err)
			}
			if len(r.References) != tc.refs {
				t.Errorf("%d references changed, want %d: %+v", len(r.References), tc.refs, r.References)
			}
			var reasons []string
			for _, u := range r.Unresolved {
				reasons = append(reasons, u.Reason)
			}
			if strings.Join(reasons, "|") != strings.Join(tc.unresolved, "|") {
				t.Errorf("unresolved %+v, want %v", r.Unresolved, tc.unresolved)
			}
			again := Renumber(r.Text)
			if len(again.Op) != 0 || again.Text != r.Text {
				t.Errorf("renumbering twice changed %v", again.Op)
			}
		})
	}
}

// TestRenumberTwiceProperty: on texts with random bis/ter insertions and
// references, a second renumbering changes nothing, and the first keeps
// the structure (same kinds, one number per provision).
func TestRenumberTwiceProperty(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 5))
		var b strings.Builder
		art := 0
		for range 2 + rng.IntN(6) {
			art++
			b.WriteString("Article " + itoa(art) + suffix(rng) + "\n")
			para := 0
			for range rng.IntN(4) {
				para++
				b.WriteString(itoa(para) + suffix(rng) + ". See article " + itoa(1+rng.IntN(art+1)) + suffix(rng) +
					" and paragraph " + itoa(1+rng.IntN(para+1)) + " of article " + itoa(1+rng.IntN(art)) + ".\n")
				sub := 0
				for range rng.IntN(3) {
					b.WriteString("(" + string(rune('a'+sub)) + suffix(rng) + ") under subparagraph (" + string(rune('a'+rng.IntN(sub+1))) + ");\n")
					sub++
				}
			}
		}
		text := b.String()
		first := Renumber(text)
		if got, err := ot.Apply(text, first.Op); err != nil || got != first.Text {
			t.Fatalf("seed %d: op does not give the text: %v", seed, err)
		}
		before, after := Parse(text), Parse(first.Text)
		if len(before) != len(after) {
			t.Fatalf("seed %d: %d provisions became %d:\n%s\n%s", seed, len(before), len(after), text, first.Text)
		}
		for i := range before {
			if before[i].Kind != after[i].Kind {
				t.Fatalf("seed %d: provision %d %s became %s", seed, i, before[i].Kind, after[i].Kind)
			}
		}
		second := Renumber(first.Text)
		if len(second.Op) != 0 {
			t.Fatalf("seed %d: second renumbering: %v\n%s", seed, second.Op, first.Text)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func suffix(rng *rand.Rand) string {
	if rng.IntN(4) == 0 {
		return " " + Suffixes[rng.IntN(2)]
	}
	return ""
}

// FuzzRenumber: on any text, the renumbering's op gives its text, keeps
// the provisions' kinds, and a second renumbering changes nothing.
func FuzzRenumber(f *testing.F) {
	f.Add("Article 1\n1. See article 1 bis.\n1 bis. X\nArticle 1 bis\n(a bis) y\n")
	f.Add("Chapter I bis\nArticle 2 ter\n2. paragraph 2 of article 2 ter, subparagraph (b)\n(b) z\n")
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) || len(text) > 4000 {
			return
		}
		r := Renumber(text)
		if got, err := ot.Apply(text, r.Op); err != nil || got != r.Text {
			t.Fatalf("op does not give the text: %v", err)
		}
		before, after := Parse(text), Parse(r.Text)
		if len(before) != len(after) {
			t.Fatalf("%d provisions became %d", len(before), len(after))
		}
		for i := range before {
			if before[i].Kind != after[i].Kind && !(before[i].Kind == Item || after[i].Kind == Item) {
				t.Fatalf("provision %d: %s became %s", i, before[i].Kind, after[i].Kind)
			}
		}
		if again := Renumber(r.Text); len(again.Op) != 0 {
			t.Fatalf("second renumbering of %q changes %v", r.Text, again.Edits)
		}
	})
}

func TestRenumberingSameAs(t *testing.T) {
	before := Renumber("Article 1\nArticle 3\nSee article 3.\n")
	if len(before.Numbers) != 1 || len(before.References) != 1 {
		t.Fatalf("renumbering %+v, want one number and one reference", before)
	}
	tests := []struct {
		name string
		text string
		same bool
	}{
		{"text typed elsewhere moves positions only", "Preamble words.\nArticle 1\nArticle 3\nSee article 3 now.\n", true},
		{"another number changes", "Article 1\nArticle 3\nArticle 7\nSee article 3.\n", false},
		{"the reference is gone", "Article 1\nArticle 3\nSee it.\n", false},
		{"the reference points elsewhere", "Article 1\nArticle 3\nSee article 1.\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Renumber(tt.text).SameAs(before); got != tt.same {
				t.Errorf("SameAs = %v, want %v", got, tt.same)
			}
		})
	}
}
