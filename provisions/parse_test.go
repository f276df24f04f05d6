package provisions

import (
	"fmt"
	"strings"
	"testing"
)

// brief writes provisions as "kind num|title@start-end^parent" for tables.
func brief(ps []Provision) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", p.Kind, p.Num)
		if p.Title != "" {
			fmt.Fprintf(&b, "|%s", p.Title)
		}
		fmt.Fprintf(&b, "@%d-%d", p.Span[0], p.Span[1])
		if p.Parent >= 0 {
			fmt.Fprintf(&b, "^%d", p.Parent)
		}
	}
	return b.String()
}

func TestParseLines(t *testing.T) {
	// One heading or marker line each: kind, number and title.
	tests := []struct {
		line string
		want string // kind num|title, "" for not a provision
	}{
		{"Article 17", "article 17"},
		{"Article 17 bis", "article 17 bis"},
		{"Article 17ter", "article 17 ter"},
		{"Article 17 quater. Protection of witnesses", "article 17 quater|Protection of witnesses"},
		{"Article 5 – Jurisdiction", "article 5|Jurisdiction"},
		{"Article 5: Jurisdiction", "article 5|Jurisdiction"},
		{"Article 5 Jurisdiction", "article 5|Jurisdiction"},
		{"ARTICLE 5", "article 5"},
		{"Article 17 of the Convention shall apply", ""},
		{"Article 17, paragraph 2", ""},
		{"Articles 12 to 15", ""},
		{"Chapter II", "chapter II"},
		{"Chapter II. Criminalization", "chapter II|Criminalization"},
		{"CHAPTER IV", "chapter IV"},
		{"Part One", "part One"},
		{"Part One General provisions", "part One|General provisions"},
		{"Section 3", "section 3"},
		{"Article premier", "article premier"},
		{"Article premier – Objet", "article premier|Objet"},
		{"Article 1er", "article 1er"},
		{"Chapitre III", "chapter III"},
		{"Partie première", "part première"},
		{"Titre II", "part II"},
		{"Artículo 17 bis. Protección de testigos", "article 17 bis|Protección de testigos"},
		{"Capítulo II", "chapter II"},
		{"Статья 17", "article 17"},
		{"Статья 17. Защита свидетелей", "article 17|Защита свидетелей"},
		{"Глава II", "chapter II"},
		{"المادة 17", "article 17"},
		{"المادة ١٧ حماية الشهود", "article ١٧|حماية الشهود"},
		{"الفصل الثاني", ""}, // ordinal words in Arabic are not read
		{"第十七条 保护证人", "article 十七|保护证人"},
		{"第17条", "article 17"},
		{"第二章 刑事定罪", "chapter 二|刑事定罪"},
		{"第一部分", "part 一"},
		{"1. Each State Party shall", "paragraph 1"},
		{"2 bis. Each State Party may", "paragraph 2 bis"},
		{"12.", "paragraph 12"},
		{"1.5 million", ""},
		{"2023. was a year", "paragraph 2023"},
		{"(a) the offence", "subparagraph a"},
		{"(a bis) the attempt", "subparagraph a bis"},
		{"(ii) in a vehicle", "item ii"},
		{"a) l'infraction", "subparagraph a"},
		{"(б) преступление", "subparagraph б"},
		{"(note) text", ""},
		{"(a)text", ""},
		{"PP1 Recalling", "preamble 1"},
		{"PP 2. Noting", "preamble 2"},
		{"   Article 3", "article 3"},
		{"Particle 3", ""},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			// Behind a heading, so that a plain line is not preambular.
			text := "Part One\n" + tc.line
			ps := Parse(text)[1:]
			got := ""
			if len(ps) > 0 {
				got = fmt.Sprintf("%s %s", ps[0].Kind, ps[0].Num)
				if ps[0].Title != "" {
					got += "|" + ps[0].Title
				}
			}
			if got != tc.want {
				t.Errorf("Parse(%q) = %q, want %q", tc.line, got, tc.want)
			}
		})
	}
}

func TestParseStructure(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", ""},
		{"plain text has no provisions", "Some text.\nMore text.", ""},
		{
			"article with paragraphs",
			"Article 1\n1. One.\n2. Two.\n",
			"article 1@0-26; paragraph 1@10-18^0; paragraph 2@18-26^0",
		},
		{
			"bis between",
			"Article 1\n1. A\n1 bis. B\n2. C",
			"article 1@0-28; paragraph 1@10-15^0; paragraph 1 bis@15-24^0; paragraph 2@24-28^0",
		},
		{
			"subparagraphs and items",
			"1. X:\n(a) a;\n(i) one;\n(ii) two;\n(b) b.",
			"paragraph 1@0-38; subparagraph a@6-32^0; item i@13-22^1; item ii@22-32^1; subparagraph b@32-38^0",
		},
		{
			"(i) after (h) is a letter",
			"1. X\n(h) h\n(i) i\n(j) j",
			"paragraph 1@0-22; subparagraph h@5-11^0; subparagraph i@11-17^0; subparagraph j@17-22^0",
		},
		{
			"chapters and articles",
			"Chapter I\nArticle 1\nText\nChapter II\nArticle 2\n",
			"chapter I@0-25; article 1@10-25^0; chapter II@25-46; article 2@36-46^2",
		},
		{
			"unnumbered preamble",
			"The States Parties,\n\nRecalling X,\n\nHave agreed as follows:\n\nArticle 1\nText",
			"preamble @0-21; preamble @21-35; preamble @35-60; article 1@60-74",
		},
		{
			"numbered preamble drops plain lines",
			"The States Parties,\nPP1 Recalling,\nPP2 Noting,\nArticle 1",
			"preamble 1@20-35; preamble 2@35-47; article 1@47-56",
		},
		{
			"paragraph continues over plain lines",
			"Article 1\n1. A\ncontinued\n\n2. B",
			"article 1@0-30; paragraph 1@10-26^0; paragraph 2@26-30^0",
		},
		{
			"code points not bytes",
			"Статья 1\n1. Ж\n2. Щ",
			"article 1@0-18; paragraph 1@9-14^0; paragraph 2@14-18^0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := brief(Parse(tc.text)); got != tc.want {
				t.Errorf("Parse(%q)\n got %s\nwant %s", tc.text, got, tc.want)
			}
		})
	}
}

func TestRoman(t *testing.T) {
	for n := 1; n <= 39; n++ {
		if got := romanValue(roman(n)); got != n {
			t.Errorf("romanValue(roman(%d) = %q) = %d", n, roman(n), got)
		}
	}
	for _, s := range []string{"", "iiii", "vx", "xl", "ic", "a"} {
		if romanValue(s) != 0 {
			t.Errorf("romanValue(%q) = %d, want 0", s, romanValue(s))
		}
	}
}
