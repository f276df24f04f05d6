package akn

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/provisions"
)

// structureOf reads text with the provisions package, as the server does.
func structureOf(text string) (Structure, []provisions.Listed) {
	list := provisions.NewRegister(text, 0).List()
	return FromProvisions(text, list), list
}

// randomTreaty is a draft of treaty lines: headings in several languages
// with bis/ter, numbered paragraphs, subparagraphs and items (indented or
// not), preambular lines, lines that only look like markers, brackets.
func randomTreaty(rng *rand.Rand) string {
	forms := []string{
		"Article %d", "Article %d bis Scope", "ARTICLE %d ter", "Artículo %d Definiciones", "Статья %d", "المادة %d التعاريف",
		"Chapter %d General", "Chapitre %d Dispositions", "Part %d", "Partie %d", "Section %d", "الفصل %d",
		"%d. The Parties [shall/should] act.", "%d bis. Text", "  (a) cooperate;", "(b) report;", "\t(c) tab", "(i) item", "  (ii) item two",
		"%d.", "%d.\tTabbed", "PP%d Recalling", "Recalling also", "", "plain & <text>", "Article", "1.5 not a paragraph", "Article %d  two spaces",
	}
	var lines []string
	for i := range rng.IntN(25) {
		f := forms[rng.IntN(len(forms))]
		if strings.Contains(f, "%d") {
			f = strings.Replace(f, "%d", []string{"1", "2", "17", "II", "3"}[i%5], 1)
		}
		if rng.IntN(3) == 0 {
			f += " " + randomLine(rng)
		}
		lines = append(lines, f)
	}
	return strings.Join(lines, "\n")
}

func TestFromProvisionsKeepsTextAndValidates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var docs [][]byte // validated together at the end
	for i := range 30 {
		text := randomTreaty(rng)
		st, list := structureOf(text)
		d := Document{Title: "t", Draft: "d", Date: time.Unix(0, 0), Nodes: st.Nodes}
		if d.Text() != text {
			t.Fatalf("case %d: structure reads\n%q\nwant\n%q", i, d.Text(), text)
		}
		for _, l := range list {
			if st.EIDs[l.ID] == "" {
				t.Fatalf("case %d: provision %s (%s %q) has no element", i, l.ID, l.Kind, l.Num)
			}
		}
		data, err := Export(d)
		if err != nil {
			t.Fatalf("case %d: %v\n%q", i, err, text)
		}
		docs = append(docs, data)
		got, err := Import(data, 0)
		if err != nil || got.Text() != text {
			t.Fatalf("case %d: import reads %q (%v), want %q", i, got.Text(), err, text)
		}
	}
	validateAll(t, docs)
}

func TestFromProvisionsElements(t *testing.T) {
	text := "Preamble line\nPartie I\nChapitre 2 Dispositions\nSection 1\nArticle 17 bis Scope\n1. The Parties shall:\n  (a) cooperate;\n    (i) at once;\n2.\nArtículo 3\nالمادة 4 التعاريف\nText."
	st, list := structureOf(text)
	byNum := map[string]*Node{}
	var walk func([]*Node, int)
	levels := map[string]int{}
	walk = func(nodes []*Node, depth int) {
		for _, n := range nodes {
			byNum[n.Num] = n
			levels[n.Num] = depth
			walk(n.Children, depth+1)
		}
	}
	walk(st.Nodes, 0)
	for num, want := range map[string]Kind{"Partie I": Part, "Chapitre 2": Chapter, "Section 1": Section, "Article 17 bis": Article,
		"1.": Paragraph, "  (a)": Subparagraph, "    (i)": Point, "Artículo 3": Article, "المادة 4": Article} {
		if n := byNum[num]; n == nil || n.Kind != want {
			t.Errorf("%q: %+v, want a %s", num, n, want)
		}
	}
	if levels["    (i)"] != 6 || levels["Artículo 3"] != 3 {
		t.Errorf("nesting %v", levels)
	}
	// "2." alone cannot be a paragraph element without losing text: a
	// Text node keeps its line; the preamble line too.
	if byNum["2."] != nil || st.Nodes[0].Kind != Text || st.Nodes[0].Lines[0] != "Preamble line" {
		t.Errorf("lossy lines became elements: %+v", st.Nodes[0])
	}
	for _, l := range list {
		if l.Kind == provisions.Article && l.Num == "17 bis" && st.EIDs[l.ID] != "art_"+strings.ReplaceAll(l.ID, ".", "_") {
			t.Errorf("eId of %s: %q", l.ID, st.EIDs[l.ID])
		}
	}
	got := HeadingLevels(st.Nodes)
	want := []int{0, 1, 2, 3, 4, 0, 0, 0, 0, 4, 4, 0}
	if len(got) != len(want) {
		t.Fatalf("levels %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("levels %v, want %v", got, want)
		}
	}
}

func TestStatusRoundTrip(t *testing.T) {
	d := Document{Draft: "d", Nodes: []*Node{{Kind: Article, Num: "Article 1", Head: "Article 1", EID: "art_p0_0", Status: "agreed", StatusRev: 4,
		Children: []*Node{{Kind: Paragraph, Num: "1.", Head: "1. Text"}}}},
		Decisions: []Decision{{Group: "p0.0", Choice: "agreed", Status: true, Element: "art_p0_0", Rev: 4, Date: time.Unix(100, 0)}}}
	data, err := Export(d)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, data)
	for _, want := range []string{`<article eId="art_p0_0" dr:status="agreed" dr:statusRev="4">`, `kind="status" element="art_p0_0"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("export lacks %s:\n%s", want, data)
		}
	}
	got, err := Import(data, 0)
	if err != nil || got.Nodes[0].Status != "agreed" || got.Nodes[0].StatusRev != 4 {
		t.Errorf("import: %+v %v", got.Nodes, err)
	}
}

// FuzzFromProvisions: any text maps to a structure that gives it back
// exactly, exports without error and imports as the same text.
func FuzzFromProvisions(f *testing.F) {
	for _, s := range []string{"Article 1\n1. a\n  (a) b\n(i) c", "2.\nPP1 x\nالمادة 4\tx", "Chapter II \nArticle 3  \n1. [a/b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) || len(text) > 4000 {
			return
		}
		st, _ := structureOf(text)
		d := Document{Draft: "d", Nodes: st.Nodes}
		if d.Text() != text {
			t.Fatalf("structure reads %q, want %q", d.Text(), text)
		}
		data, err := Export(d)
		if err != nil {
			t.Fatalf("%v for %q", err, text)
		}
		got, err := Import(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text() != text && xmlSafe(text) {
			t.Fatalf("import reads %q, want %q", got.Text(), text)
		}
	})
}

// xmlSafe reports whether XML can carry every character of s (Export
// writes the others as U+FFFD).
func xmlSafe(s string) bool {
	for _, c := range s {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xFFFE || c == 0xFFFF {
			return false
		}
	}
	return true
}
