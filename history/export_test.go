package history

import (
	"errors"
	"html"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
)

// treaty is a draft with a nested group: the outer group [0..] holds the
// inner one, and an escaped "and\/or" that is not a separator.
const treaty = "1. [States Parties [shall/may] adopt/Each Party adopts] rules and\\/or <script>alert(1)</script> measures."

func treatyGroups() []ExportGroup {
	outerStart := strings.Index(treaty, "[")
	outerEnd := strings.Index(treaty, "adopts]") + len("adopts]")
	innerStart := strings.Index(treaty, "[shall")
	innerEnd := strings.Index(treaty, "may]") + len("may]")
	// All ASCII before the groups end, so byte offsets are code points.
	return []ExportGroup{
		{ID: "b3.7", Start: innerStart, End: innerEnd, Alternatives: []ExportAlternative{
			{Text: "shall", By: ana, Rev: 3}, {Text: "may", By: dr.Author{Delegation: "USA", Name: "<b>Ben</b>"}, Rev: 9},
		}},
		{ID: "b0.3", Start: outerStart, End: outerEnd, Alternatives: []ExportAlternative{
			{Text: "States Parties [shall/may] adopt"}, {Text: "Each Party <adopts>", By: chi},
		}},
	}
}

func TestExportHTML(t *testing.T) {
	out := ExportHTML(`Article 17 <img src=x onerror=alert(1)>`, treaty, treatyGroups())
	// No markup from the draft, the title, the alternatives or the names.
	for _, bad := range []string{"<script", "<img", "<b>", "<adopts>"} {
		if strings.Contains(out, bad) {
			t.Fatalf("ExportHTML left %q unescaped:\n%s", bad, out)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "&lt;b&gt;Ben&lt;/b&gt;", "Each Party &lt;adopts&gt;", "&lt;img src=x"} {
		if !strings.Contains(out, want) {
			t.Fatalf("ExportHTML has no %q:\n%s", want, out)
		}
	}
	// The outer group is note 1 (it starts first), the inner one note 2,
	// nested inside it; the escape shows in its reading form.
	body := regexp.MustCompile(`(?s)<div class="draft" dir="auto">(.*)</div>`).FindStringSubmatch(out)[1]
	want := `1. <mark class="bracket" id="group-b0.3">[States Parties ` +
		`<mark class="bracket" id="group-b3.7">[shall/may]</mark><sup class="note"><a href="#note-2" id="ref-2">2</a></sup>` +
		` adopt/Each Party adopts]</mark><sup class="note"><a href="#note-1" id="ref-1">1</a></sup>` +
		` rules and/or &lt;script&gt;alert(1)&lt;/script&gt; measures.`
	if body != want {
		t.Fatalf("draft body\n got %s\nwant %s", body, want)
	}
	// Stripping our markup and unescaping gives the reading form back.
	plain := html.UnescapeString(regexp.MustCompile(`<sup.*?</sup>|<[^>]*>`).ReplaceAllString(body, ""))
	if plain != strings.ReplaceAll(treaty, `\/`, "/") {
		t.Fatalf("text of the HTML = %q", plain)
	}
	notes := regexp.MustCompile(`<li id="note-(\d)">(.*?)</li>`).FindAllStringSubmatch(out, -1)
	if len(notes) != 2 || notes[0][1] != "1" || !strings.Contains(notes[0][2], "b0.3") || !strings.Contains(notes[0][2], "(CHN, Chi)") {
		t.Fatalf("notes = %q", notes)
	}
	if !strings.Contains(notes[1][2], "<q>shall</q> (CAN, Ana (rev 3)); <q>may</q> (USA, &lt;b&gt;Ben&lt;/b&gt; (rev 9))") {
		t.Fatalf("note 2 = %q", notes[1][2])
	}
}

// TestExportHTMLDirection: each paragraph of the export takes its direction
// from its own text (an Arabic paragraph right to left, an English one left
// to right): the text is dir="auto" and bidi-isolated per paragraph. The
// browser check is in e2e (TestArabicParagraphsReadRightToLeft).
func TestExportHTMLDirection(t *testing.T) {
	out := ExportHTML("Art. 5", "Article 5\nتتخذ الدول [الأطراف] التدابير.", nil)
	for _, want := range []string{`<div class="draft" dir="auto">`, "unicode-bidi: plaintext"} {
		if !strings.Contains(out, want) {
			t.Fatalf("ExportHTML has no %q:\n%s", want, out)
		}
	}
}

func TestExportHTMLBadGroups(t *testing.T) {
	draft := "ab[cd]ef[gh]😭"
	groups := []ExportGroup{
		{ID: "in", Start: 2, End: 6},
		{ID: "cross", Start: 4, End: 9}, // crosses "in": left unmarked
		{ID: "clip", Start: 8, End: 99}, // clipped to the end of the text
		{ID: "empty", Start: 5, End: 5}, // nothing to mark
		{ID: "neg", Start: -4, End: -1}, // outside the text
	}
	out := ExportHTML("t", draft, groups)
	body := regexp.MustCompile(`(?s)<div class="draft" dir="auto">(.*)</div>`).FindStringSubmatch(out)[1]
	want := `ab<mark class="bracket" id="group-in">[cd]</mark><sup class="note"><a href="#note-1" id="ref-1">1</a></sup>ef` +
		`<mark class="bracket" id="group-clip">[gh]😭</mark><sup class="note"><a href="#note-2" id="ref-2">2</a></sup>`
	if body != want {
		t.Fatalf("body\n got %s\nwant %s", body, want)
	}
}

func TestExportMarkdown(t *testing.T) {
	out := ExportMarkdown("Art. 17\n<i>", treaty, treatyGroups())
	want := "# Art. 17 \\<i\\>\n\n" +
		"1\\. \\[States Parties \\[shall/may\\][^2] adopt/Each Party adopts\\][^1] rules and/or \\<script\\>alert(1)\\</script\\> measures.\n" +
		"\n" +
		"[^1]: `b0.3`: “States Parties \\[shall/may\\] adopt”; “Each Party \\<adopts\\>” (CHN, Chi)\n" +
		"[^2]: `b3.7`: “shall” (CAN, Ana (rev 3)); “may” (USA, \\<b\\>Ben\\</b\\> (rev 9))\n"
	if out != want {
		t.Fatalf("ExportMarkdown\n got %q\nwant %q", out, want)
	}
}

func TestExportMarkdownLines(t *testing.T) {
	tests := []struct{ draft, want string }{
		{"# not a heading", "\\# not a heading\n"},
		{"line one\nline two", "line one\\\nline two\n"},
		{"para one\n\npara two\n", "para one\n\npara two\n"},
		{"- item\n+ item\n> quote\n2) two", "\\- item\\\n\\+ item\\\n\\> quote\\\n2\\) two\n"},
		{"    indented *x* _y_ `z` a|b ~c~ &amp;", "&#32;   indented \\*x\\* \\_y\\_ \\`z\\` a\\|b \\~c\\~ \\&amp;\n"},
		{"***", "\\*\\*\\*\n"},
		{"===\n", "\\===\n"},
		{"Stop!", "Stop\\!\n"},
	}
	for _, tt := range tests {
		if got := ExportMarkdown("", tt.draft, nil); got != tt.want {
			t.Errorf("ExportMarkdown(%q) = %q, want %q", tt.draft, got, tt.want)
		}
	}
}

// TestUnescaperPieces: the reading form does not depend on where the text
// is cut.
func TestUnescaperPieces(t *testing.T) {
	text := `a\[b\\[c\/d\x\`
	want := `a[b\[c/d\x\`
	for cut := 0; cut <= len(text); cut++ {
		for cut2 := cut; cut2 <= len(text); cut2++ {
			var u unescaper
			got := u.feed(text[:cut]) + u.feed(text[cut:cut2]) + u.feed(text[cut2:]) + u.flush()
			if got != want {
				t.Fatalf("cut at %d,%d: %q, want %q", cut, cut2, got, want)
			}
		}
	}
}

func TestCleanCheck(t *testing.T) {
	tests := []struct {
		text string
		want []int
	}{
		{"All Parties shall cooperate.", nil},
		{`escaped \[not a bracket\] and\/or \\`, nil},
		{"[shall/may] 😭 ]", []int{0, 10, 14}},
		{`\\[real`, []int{2}}, // an escaped backslash, then a real '['
	}
	for _, tt := range tests {
		got := Unclean(tt.text)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Unclean(%q) = %v, want %v", tt.text, got, tt.want)
		}
		err := CheckClean(tt.text)
		if (err == nil) != (tt.want == nil) || (err != nil && !errors.Is(err, ErrNotClean)) {
			t.Errorf("CheckClean(%q) = %v", tt.text, err)
		}
	}
	if ExportText(treaty) != treaty {
		t.Fatal("ExportText changed the draft")
	}
}

// unescapeDraft is the reading form of a whole draft text: a '\' before '[', ']',
// '/' or '\' is dropped.
func unescapeDraft(s string) string {
	var u unescaper
	return u.feed(s) + u.flush()
}

// FuzzExportHTML: whatever the draft and the group spans, the export
// renders the draft's text exactly, and only our own tags are markup.
func FuzzExportHTML(f *testing.F) {
	f.Add(treaty, 3, 50, 15, 30)
	f.Add("<script>[x]</script>", 8, 11, 0, 99)
	f.Add("😭[a/b]😭", 1, 6, 2, 4)
	own := regexp.MustCompile(`<sup class="note">.*?</sup>|</?mark[^>]*>`)
	f.Fuzz(func(t *testing.T, draft string, s1, e1, s2, e2 int) {
		if !utf8.ValidString(draft) {
			t.Skip("drafts are valid UTF-8")
		}
		groups := []ExportGroup{{ID: "g<1>", Start: s1, End: e1, Alternatives: []ExportAlternative{{Text: draft}}}, {ID: "g2", Start: s2, End: e2}}
		out := ExportHTML(draft, draft, groups)
		body := regexp.MustCompile(`(?s)<div class="draft" dir="auto">(.*)</div>\n`).FindStringSubmatch(out)
		if body == nil {
			t.Fatalf("no draft body in %q", out)
		}
		bare := own.ReplaceAllString(body[1], "")
		if strings.ContainsAny(bare, "<>") {
			t.Fatalf("markup from the draft in %q", body[1])
		}
		if got := html.UnescapeString(bare); got != unescapeDraft(draft) {
			t.Fatalf("export shows %q, want %q", got, unescapeDraft(draft))
		}
		if n := strings.Count(body[1], "<mark"); n != strings.Count(body[1], "</mark>") {
			t.Fatalf("unbalanced marks in %q", body[1])
		}
	})
}

// liveMarkdown matches what renderers turn into links when it is not
// escaped: "](" and "<" (link and autolink syntax), "://", "www.", "@", and
// a scheme's colon at the start of a word.
var liveMarkdown = regexp.MustCompile(`(^|[^\\])(\]\(|<)|://|www\.|(^|[^\\])@|\b(javascript|data|mailto|https?):`)

// TestExportMarkdownLinksInert: draft text that looks like a link, an
// autolink or a bare URL never becomes a live link: each pattern that
// renderers act on (link syntax, <autolinks>, GFM and linkify extended
// autolinks, bare scheme URLs) is broken by an escape, and the text reads
// the same.
func TestExportMarkdownLinksInert(t *testing.T) {
	tests := []struct{ draft, want string }{
		{"[see annex](https://evil.example)", `\[see annex\]\(https\:\/\/evil.example)` + "\n"},
		{"[x](javascript:alert(1))", `\[x\]\(javascript\:alert(1))` + "\n"},
		{"see javascript:alert(1) now", `see javascript\:alert(1) now` + "\n"},
		{"<https://evil.example>", `\<https\:\/\/evil.example\>` + "\n"},
		{"go to https://evil.example/x", `go to https\:\/\/evil.example/x` + "\n"},
		{"HTTPS://EVIL", `HTTPS\:\/\/EVIL` + "\n"},
		{"visit www.evil.example", `visit www\.evil.example` + "\n"},
		{"write to a@evil.example", `write to a\@evil.example` + "\n"},
		{"![img](data:text/html,x)", `\!\[img\]\(data\:text/html,x)` + "\n"},
		{"[ref]: https://evil", `\[ref\]\: https\:\/\/evil` + "\n"},
		{"Article 5: the Parties", "Article 5: the Parties\n"},
		{"metadata: 3/4", "metadata: 3/4\n"},
	}
	for _, tt := range tests {
		got := ExportMarkdown("", tt.draft, nil)
		if got != tt.want {
			t.Errorf("ExportMarkdown(%q) = %q, want %q", tt.draft, got, tt.want)
		}
		if m := liveMarkdown.FindString(got); m != "" {
			t.Errorf("ExportMarkdown(%q) = %q still holds %q unescaped", tt.draft, got, m)
		}
	}
	// A bracket group followed by "(url)": its footnote reference must not
	// become a link's text.
	draft := "[see annex](https://evil.example) and [b]: x"
	groups := []ExportGroup{
		{ID: "b0.0", Start: 0, End: len("[see annex]"), Alternatives: []ExportAlternative{{Text: "see annex"}}},
		{ID: "b0.1", Start: strings.Index(draft, "[b]"), End: strings.Index(draft, "[b]") + 3, Alternatives: []ExportAlternative{{Text: "b"}}},
	}
	got := ExportMarkdown("", draft, groups)
	body, _, _ := strings.Cut(got, "\n\n")
	if want := `\[see annex\][^1]\(https\:\/\/evil.example) and \[b\][^2]\: x`; body != want {
		t.Errorf("ExportMarkdown with groups = %q, want %q first", got, want)
	}
	// Titles and alternatives in footnotes too.
	if got := escapeMarkdownInline("[a](https://evil) www.x"); got != `\[a\]\(https\:\/\/evil) www\.x` {
		t.Errorf("escapeMarkdownInline = %q", got)
	}
}
