package akn

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/internal/testenv"
)

// schema is the OASIS schema, beside the checkout (CI has ../shared).
const schema = "../../shared/standards/akomantoso30.xsd"

// validate checks data against the Akoma Ntoso schema with xmllint.
func validate(t *testing.T, data []byte) {
	t.Helper()
	validateAll(t, [][]byte{data})
}

// validateAll checks documents against the Akoma Ntoso schema with one
// xmllint run: reading the schema is most of its time, so a property test
// validates all its cases at once. A failure names the cases that fail.
func validateAll(t *testing.T, docs [][]byte) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		testenv.MissingTool(t, "xmllint is not installed: apt-get install libxml2-utils")
	}
	if _, err := os.Stat(schema); err != nil {
		testenv.MissingTool(t, "the Akoma Ntoso schema is not at %s: %v", schema, err)
	}
	dir := t.TempDir()
	args := []string{"--noout", "--nonet", "--schema", schema}
	for i, data := range docs {
		f := filepath.Join(dir, fmt.Sprintf("case-%03d.xml", i))
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	out, err := exec.Command("xmllint", args...).CombinedOutput()
	if err != nil {
		var failed []string
		for i, data := range docs {
			if bytes.Contains(out, fmt.Appendf(nil, "case-%03d.xml fails to validate", i)) {
				failed = append(failed, fmt.Sprintf("case %d:\n%s", i, data))
			}
		}
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, strings.Join(failed, "\n"))
	}
}

func randomLine(rng *rand.Rand) string {
	words := []string{"the", "Parties", "shall", "[shall/should]", "[may]", "[a/[b/c]/]", "[/none]", "\\[x\\]", "[open", "close]",
		"&", "<tag>", "\"q\"", "\t", "  ", "عربي", "日本", "😀", "1.", "Article", "/"}
	var b strings.Builder
	for i := range rng.IntN(8) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}

func randomLines(rng *rand.Rand, n int) []string {
	var out []string
	for range rng.IntN(n + 1) {
		out = append(out, randomLine(rng))
	}
	return out
}

func randomNode(rng *rand.Rand, kind Kind, num int) *Node {
	n := &Node{Kind: kind}
	switch kind {
	case Chapter:
		n.Num = "Chapter " + []string{"I", "II", "III", "IV"}[num%4]
	case Article:
		n.Num = "Article " + strconv.Itoa(num)
	case Paragraph:
		n.Num = strconv.Itoa(num) + "."
	}
	n.Head = n.Num
	if kind == Paragraph || rng.IntN(2) == 0 {
		rest := randomLine(rng)
		if rest == "" {
			rest = "words"
		}
		n.Head += " " + rest
	}
	n.Lines = randomLines(rng, 3)
	var child Kind
	switch kind {
	case Chapter:
		child = Article
	case Article:
		child = Paragraph
	}
	if child != "" {
		for i := range rng.IntN(4) {
			n.Children = append(n.Children, randomNode(rng, child, i+1))
		}
	}
	return n
}

func randomDocument(rng *rand.Rand) Document {
	d := Document{Title: "Draft <treaty> & co", Draft: "art-5", Rev: rng.IntN(1000), Date: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	if rng.IntN(2) == 0 {
		d.Nodes = append(d.Nodes, &Node{Kind: Text, Lines: randomLines(rng, 3)})
	}
	for i := range rng.IntN(4) {
		if rng.IntN(2) == 0 {
			d.Nodes = append(d.Nodes, randomNode(rng, Chapter, i))
		} else {
			d.Nodes = append(d.Nodes, randomNode(rng, Article, i+1))
		}
	}
	if rng.IntN(2) == 0 {
		d.Decisions = []Decision{{Group: "b3.0", Choice: "choose", Result: "should", Delegation: "FR", Name: "Marie", Rev: 4, Date: d.Date},
			{Group: "b5.1", Choice: "drop", Delegation: "Côte d'Ivoire", Rev: 7, Date: d.Date}}
	}
	return d
}

// strip removes what Export adds (generated eIds, an empty hcontainer for
// an empty body) so that trees compare.
func strip(nodes []*Node) []*Node {
	if len(nodes) > 0 && nodes[0].Kind == Text && len(nodes[0].Lines) == 0 && len(nodes[0].Children) == 0 {
		nodes = nodes[1:]
	}
	if len(nodes) == 0 {
		return nil
	}
	for _, n := range nodes {
		n.EID = ""
		if len(n.Lines) == 0 {
			n.Lines = nil
		}
		n.Children = strip(n.Children)
	}
	return nodes
}

func TestRandomDocumentsValidateAndRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var docs [][]byte // validated together at the end
	for i := range 40 {
		d := randomDocument(rng)
		data, err := Export(d)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, data)
		got, err := Import(data, 0)
		if err != nil {
			t.Fatalf("case %d: %v\n%s", i, err, data)
		}
		if got.Text() != d.Text() {
			t.Fatalf("case %d: text after import\n%q\nwant\n%q\n%s", i, got.Text(), d.Text(), data)
		}
		if got.Title != d.Title || got.Draft != d.Draft || got.Rev != d.Rev {
			t.Fatalf("case %d: title %q draft %q rev %d", i, got.Title, got.Draft, got.Rev)
		}
		if !reflect.DeepEqual(strip(got.Nodes), strip(d.Nodes)) {
			t.Fatalf("case %d: structure after import differs\n%s", i, data)
		}
		again, err := Export(got)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := Import(again, 0); err != nil || back.Text() != d.Text() {
			t.Fatalf("case %d: export → import → export → import: %v %q", i, err, back.Text())
		}
	}
	validateAll(t, docs)
}

func TestExportMarksBrackets(t *testing.T) {
	d := Document{Draft: "d", Nodes: []*Node{{Kind: Article, Num: "Article 1", Head: "Article 1 Scope", Children: []*Node{
		{Kind: Paragraph, Num: "1.", Head: "1. The Parties [shall/should/] act [now]."},
	}}}}
	data, err := Export(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `<paragraph eId="art_1__para_1"><num>1.</num><content><p>The Parties <inline name="bracket">[<inline name="alternative">shall</inline>/<inline name="alternative">should</inline>/<inline name="alternative"/>]</inline> act <inline name="bracket">[<inline name="alternative">now</inline>]</inline>.</p></content></paragraph>`
	if !strings.Contains(string(data), want) {
		t.Errorf("export lacks\n%s\nin\n%s", want, data)
	}
	validate(t, data)
}

func TestImportRefusesBadInput(t *testing.T) {
	cases := []struct {
		name, data string
		want       error
	}{
		{"not XML", "hello", ErrNotAKN},
		{"not well-formed", `<akomaNtoso xmlns="` + Namespace + `"><bill>`, ErrBadXML},
		{"entities", `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><akomaNtoso xmlns="` + Namespace + `"/>`, ErrBadXML},
		{"other root", `<html/>`, ErrNotAKN},
		{"no body", `<akomaNtoso xmlns="` + Namespace + `"><bill/></akomaNtoso>`, ErrNotAKN},
		{"too long", `<akomaNtoso xmlns="` + Namespace + `"><bill><body><hcontainer name="text"><content><p>` + strings.Repeat("x", 200) + `</p></content></hcontainer></body></bill></akomaNtoso>`, ErrTooLarge},
	}
	for _, c := range cases {
		if _, err := Import([]byte(c.data), 100); !errors.Is(err, c.want) {
			t.Errorf("%s: Import = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestExportRefusesLossyStructure(t *testing.T) {
	for _, n := range []*Node{
		{Kind: Article, Num: "Article 1", Head: "Art. 1"},
		{Kind: Paragraph, Num: "1.", Head: "1."},
		{Kind: Text, Lines: []string{"a\nb"}},
	} {
		if _, err := Export(Document{Nodes: []*Node{n}}); !errors.Is(err, ErrStructure) {
			t.Errorf("Export(%+v) = %v, want ErrStructure", n, err)
		}
	}
}
