package web

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/brackets"
)

var update = flag.Bool("update", false, "rewrite web/test/testdata/brackets-server.json from the server's parser")

// fixtureCase is one text as the server's parser (brackets.Parse) reads it,
// in code points; web/test/brackets.test.mjs checks that the browser's
// reader (src/brackets.js) reads the same.
type fixtureCase struct {
	Text   string           `json:"text"`
	Groups []fixtureGroup   `json:"groups"`
	Diags  []fixtureProblem `json:"diags"`
}

type fixtureGroup struct {
	Span  [2]int   `json:"span"`
	Depth int      `json:"depth"`
	Alts  [][2]int `json:"alts"`
}

type fixtureProblem struct {
	Pos  int    `json:"pos"`
	Code string `json:"code"`
}

func fixtureTexts() []string {
	texts := []string{
		"States Parties [shall/should] [, in accordance with their national circumstances,] provide [new and additional] [financial] resources.",
		"[shall] or [may] or [must/will]", "[a][b]", "[a] [b]", "[a]\u00a0or\u202f[b]", "[a]or [b]", "[a] Or [b]",
		"[x [a]] or [[b] y]", "[and\\/or/or]", "\\[sic\\]", "[a] b] [c",
		"تعتمد الدول [الأطراف/الأعضاء] أو [ب] التدابير", "缔约国[应/可]采取措施", "[应]或[可]", "😀 [👍/👎] or [🤝] 😀",
		strings.Repeat("[", 20) + "x/y" + strings.Repeat("]", 20),
	}
	pieces := []string{"[", "]", "/", "\\", " ", " or ", "a", "ب", "中", "😭", "\n", ", ", strings.Repeat("[", 17), strings.Repeat("]", 5)}
	r := rand.New(rand.NewPCG(13, 17))
	for range 200 {
		var b strings.Builder
		for k := r.IntN(25); k > 0; k-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		texts = append(texts, b.String())
	}
	return texts
}

func buildFixture() []byte {
	var cases []fixtureCase
	for _, text := range fixtureTexts() {
		res := brackets.Parse(text)
		c := fixtureCase{Text: text, Groups: []fixtureGroup{}, Diags: []fixtureProblem{}}
		for _, g := range res.Groups {
			fg := fixtureGroup{Span: [2]int{g.Start, g.End}, Depth: g.Depth, Alts: [][2]int{}}
			for _, a := range g.Alternatives {
				fg.Alts = append(fg.Alts, [2]int{a.Start, a.End})
			}
			c.Groups = append(c.Groups, fg)
		}
		for _, d := range res.Diagnostics {
			c.Diags = append(c.Diags, fixtureProblem{Pos: d.Pos, Code: d.Code})
		}
		cases = append(cases, c)
	}
	// One case per line: a diff of the file shows which readings changed.
	var out bytes.Buffer
	out.WriteString("[\n")
	for i, c := range cases {
		line, _ := json.Marshal(c)
		out.Write(line)
		if i < len(cases)-1 {
			out.WriteByte(',')
		}
		out.WriteByte('\n')
	}
	out.WriteString("]\n")
	return out.Bytes()
}

// TestBracketFixtureCurrent keeps web/test/testdata/brackets-server.json,
// the server's reading of a set of texts, in step with brackets.Parse, so
// that the browser's reader is checked against the grammar as the server
// has it (`go test ./web/ -run BracketFixture -update` rewrites it).
func TestBracketFixtureCurrent(t *testing.T) {
	path := filepath.Join("test", "testdata", "brackets-server.json")
	want := buildFixture()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not brackets.Parse's reading any more: run go test ./web/ -run BracketFixture -update, then npm test in web/", path)
	}
}
