package docx

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// randomRuns returns runs of random text over an alphabet with the
// characters a draft may hold that XML and Word treat specially.
func randomRuns(rng *rand.Rand, n int, tracked bool) []Run {
	alphabet := []string{"a", "b", "c", " ", " ", "\n", "\t", "[", "]", "/", "&", "<", ">", "\"", "é", "ع", "ش", "日", "😀", "shall", "should"}
	authors := []string{"FR — Marie Curie", "DE — Hans", "Secretariat", "EG — أحمد"}
	var runs []Run
	for range n {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		r := Run{Text: b.String()}
		if tracked && rng.IntN(2) == 0 {
			r.Mark = Mark(1 + rng.IntN(2))
			r.Author = authors[rng.IntN(len(authors))]
			r.Date = time.Date(2026, 1, 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.UTC)
		}
		runs = append(runs, r)
	}
	return runs
}

func TestWriteReadRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		runs := randomRuns(rng, rng.IntN(30), i%3 != 0)
		props := map[string]string{"draftroom.doc": "art-5", "draftroom.rev": "12"}
		data, err := Write(Document{Title: "Draft <1>", Header: "h", Runs: runs, Properties: props, Levels: []int{1, 0, 2}})
		if err != nil {
			t.Fatal(err)
		}
		f, err := Read(data, DefaultLimits)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got, want := Original(f.Runs), Original(runs); got != want {
			t.Fatalf("case %d: original %q, want %q", i, got, want)
		}
		if got, want := Accepted(f.Runs), Accepted(runs); got != want {
			t.Fatalf("case %d: accepted %q, want %q", i, got, want)
		}
		if got, want := Changes(f.Runs), Changes(runs); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: changes\n%+v\nwant\n%+v", i, got, want)
		}
		if f.Title != "Draft <1>" || !reflect.DeepEqual(f.Properties, props) {
			t.Fatalf("case %d: title %q properties %v", i, f.Title, f.Properties)
		}
	}
}

func TestWriteMarksTrackedChanges(t *testing.T) {
	d := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	data, err := Write(Document{Runs: []Run{
		{Text: "The Parties "},
		{Text: "shall", Mark: Deleted, Author: "FR — Marie", Date: d},
		{Text: "should", Mark: Inserted, Author: "DE — Hans", Date: d},
		{Text: " act.\nعربي"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	body := string(mustPart(t, data, "word/document.xml"))
	for _, want := range []string{
		`<w:del w:id="1" w:author="FR — Marie" w:date="2026-03-04T05:06:07Z">`,
		`<w:delText xml:space="preserve">shall</w:delText>`,
		`<w:ins w:id="2" w:author="DE — Hans" w:date="2026-03-04T05:06:07Z">`,
		`<w:bidi/>`, `<w:rtl/>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("document.xml lacks %s:\n%s", want, body)
		}
	}
}

func TestChanges(t *testing.T) {
	runs := []Run{
		{Text: "ab"}, {Text: "cd", Mark: Deleted, Author: "A"}, {Text: "X", Mark: Inserted, Author: "B"},
		{Text: "e"}, {Text: "Y", Mark: Inserted, Author: "A"}, {Text: "f"}, {Text: "g", Mark: Deleted, Author: "A"},
	}
	want := []Change{{Start: 2, End: 4, Text: "X", Author: "A; B"}, {Start: 5, End: 5, Text: "Y", Author: "A"}, {Start: 6, End: 7, Author: "A"}}
	if got := Changes(runs); !reflect.DeepEqual(got, want) {
		t.Errorf("Changes = %+v, want %+v", got, want)
	}
}

func TestSofficeReadsExport(t *testing.T) {
	needSoffice(t)
	rng := rand.New(rand.NewPCG(3, 4))
	texts := []string{
		"Draft treaty on [shall/should] cooperation\n\nChapter I General provisions\nArticle 1 Scope\n1. This Convention applies\tto all \"Parties\" & <others>.\nتطبق هذه الاتفاقية\n  indented line  \n",
		Accepted(randomRuns(rng, 40, false)),
	}
	for _, text := range texts {
		n := len([]rune(text))
		comments := []Comment{{Start: 15, End: 30, Author: "draftroom", Text: "Group b0.15\n\"shall\" (CAN, Ana)"}, {Start: 0, End: n / 2, Author: "X", Text: "long"}, {Start: n / 3, End: n, Author: "Y", Text: "crossing"}}
		data, err := Write(Document{Title: "T", Header: "T — Rev. 3", Runs: []Run{{Text: text}}, Levels: []int{0, 0, 1, 2}, Comments: comments})
		if err != nil {
			t.Fatal(err)
		}
		if got := sofficeText(t, data); got != text {
			t.Errorf("LibreOffice read\n%q\nwant\n%q", got, text)
		}
	}
}

func TestSofficeAcceptsAndRejects(t *testing.T) {
	needSoffice(t)
	rng := rand.New(rand.NewPCG(5, 6))
	runs := append([]Run{{Text: "Article 1\n1. The Parties "},
		{Text: "shall", Mark: Deleted, Author: "FR — Marie", Date: time.Now()},
		{Text: "should", Mark: Inserted, Author: "DE — Hans", Date: time.Now()},
		{Text: " cooperate.\n"}}, randomRuns(rng, 60, true)...)
	runs = append(runs, Run{Text: "\nEnd."})
	data, err := Write(Document{Title: "T", Runs: runs, Levels: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sofficeChanges(t, data, true), Accepted(runs); got != want {
		t.Errorf("accept all in LibreOffice gave\n%q\nwant\n%q", got, want)
	}
	if got, want := sofficeChanges(t, data, false), Original(runs); got != want {
		t.Errorf("reject all in LibreOffice gave\n%q\nwant\n%q", got, want)
	}
}

func TestWriteComments(t *testing.T) {
	data, err := Write(Document{Runs: []Run{{Text: "ab "}, {Text: "old", Mark: Deleted, Author: "A"}, {Text: "[x/y]\nعربي", Mark: Inserted, Author: "B"}},
		Comments: []Comment{{Start: 3, End: 8, Author: "draftroom", Text: "Group b1.0: \"x\" (CAN, Ana); \"y\" (USA, Bob)"}}})
	if err != nil {
		t.Fatal(err)
	}
	body := string(mustPart(t, data, "word/document.xml"))
	for _, want := range []string{
		`<w:t xml:space="preserve">ab </w:t></w:r><w:commentRangeStart w:id="1"/><w:del w:id="2" w:author="A">`,
		`[x/y]</w:t></w:r></w:ins><w:commentRangeEnd w:id="1"/><w:r><w:commentReference w:id="1"/></w:r></w:p>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("document.xml lacks\n%s\nin\n%s", want, body)
		}
	}
	if c := string(mustPart(t, data, "word/comments.xml")); !strings.Contains(c, `<w:comment w:id="1" w:author="draftroom">`) || !strings.Contains(c, "(USA, Bob)") {
		t.Errorf("comments.xml: %s", c)
	}
	f, err := Read(data, DefaultLimits)
	if err != nil || Accepted(f.Runs) != "ab [x/y]\nعربي" {
		t.Fatalf("read back %v: %q", err, Accepted(f.Runs))
	}
}
