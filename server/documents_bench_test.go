package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/docx"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// benchTreaty returns a draft of about n code points: chapters, articles
// and numbered paragraphs, some in Arabic, with bracketed alternatives.
func benchTreaty(n int) string {
	var b strings.Builder
	b.WriteString("Draft convention on cooperation\n")
	for art := 1; b.Len() < 2*n; art++ { // bytes: some lines are Arabic
		if art%20 == 1 {
			fmt.Fprintf(&b, "Chapter %d General provisions\n", art/20+1)
		}
		fmt.Fprintf(&b, "Article %d Scope of cooperation\n", art)
		for p := 1; p <= 4; p++ {
			if p == 4 {
				fmt.Fprintf(&b, "%d. تتعاون الأطراف [بحسن نية/وفقا لقدراتها] في تنفيذ هذه الاتفاقية.\n", p)
				continue
			}
			fmt.Fprintf(&b, "%d. The Parties [shall/should] cooperate, in accordance with their national circumstances, on the matters set out in article %d [and its annexes].\n", p, art)
		}
	}
	runes := []rune(b.String())
	return string(runes[:n])
}

// benchEdits returns n ops on a text of length cps: words typed, deleted
// and replaced at random places by six delegations taking turns every 25
// edits, a minute apart.
func benchEdits(rng *rand.Rand, cps, n int) []dr.Op {
	people := []dr.Author{{Delegation: "CAN", Name: "Ana"}, {Delegation: "USA", Name: "Bob"}, {Delegation: "EGY", Name: "Omar"},
		{Delegation: "FRA", Name: "Marie"}, {Delegation: "CHN", Name: "Li"}, {Delegation: "BRA", Name: "João"}}
	words := []string{"promptly ", "all ", "relevant ", "international ", "التعاون ", "in particular ", "as appropriate "}
	ts := int64(1795000000000)
	ops := make([]dr.Op, n)
	for i := range ops {
		by := people[(i/25)%len(people)]
		ts += 60_000
		pos := rng.IntN(cps - 20)
		var op ot.Op
		switch rng.IntN(3) {
		case 0:
			w := words[rng.IntN(len(words))]
			op = ot.Op{ot.Skip(pos), ot.Insert(w)}
			cps += len([]rune(w))
		case 1:
			d := 1 + rng.IntN(12)
			op = ot.Op{ot.Skip(pos), ot.Delete(d)}
			cps -= d
		default:
			w := words[rng.IntN(len(words))]
			d := 1 + rng.IntN(8)
			op = ot.Op{ot.Skip(pos), ot.Delete(d), ot.Insert(w)}
			cps += len([]rune(w)) - d
		}
		ops[i] = dr.Op{Rev: i + 1, Op: ot.Normalize(op), Client: "c-" + by.Delegation, Seq: uint64(i + 1),
			Principal: dr.OpenPrincipal(by.Delegation, by.Name), By: by, TS: ts}
	}
	return ops
}

func serveTimed(b *testing.B, h http.Handler, method, path, ctype string, body []byte) []byte {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.Bytes()[:min(rec.Body.Len(), 300)])
	}
	return rec.Body.Bytes()
}

// BenchmarkDocumentsExport: the .docx export of a 1,200,000 code point
// draft with the changes of 10,000 revisions as tracked changes (issue 18:
// at most 2 s), the plain .docx and the Akoma Ntoso export of it.
func BenchmarkDocumentsExport(b *testing.B) {
	const cps, revs = 1_200_000, 10_000
	start := benchTreaty(cps)
	ops := benchEdits(rand.New(rand.NewPCG(1, 2)), cps, revs)
	t0 := time.Now()
	st := buildTraceStore(b, filepath.Join(b.TempDir(), "paper.db"), start, ops, 256)
	b.Cleanup(func() { st.Close() })
	b.Logf("built %d revisions of a %d code point draft in %v", revs, cps, time.Since(t0).Round(time.Millisecond))
	s := New(Config{Open: true, SnapshotEvery: 256}, st, nil)
	b.Cleanup(func() { s.Shutdown(context.Background()) })
	h := s.Handler()
	for _, c := range []struct{ name, path string }{
		{"docx-tracked-10k-revisions", fmt.Sprintf("/api/docs/paper/export?format=docx&rev=%d&against=0", revs)},
		{"docx-plain", "/api/docs/paper/export?format=docx"},
		{"akn", "/api/docs/paper/export?format=akn"},
	} {
		b.Run(c.name, func(b *testing.B) {
			out := serveTimed(b, h, "GET", c.path, "", nil) // warm: the draft loads on first use
			changes := 0
			if c.name == "docx-tracked-10k-revisions" {
				f, err := docx.Read(out, docx.DefaultLimits)
				if err != nil {
					b.Fatal(err)
				}
				changes = len(docx.Changes(f.Runs))
			}
			cpu, runs := cpuTime(), 0
			for b.Loop() {
				serveTimed(b, h, "GET", c.path, "", nil)
				runs++
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(runs), "cpu-ms/op")
			b.ReportMetric(float64(len(out))/1e6, "MB")
			if changes > 0 {
				b.ReportMetric(float64(changes), "changes")
			}
		})
	}
}

// benchMarkedUp returns a draft of pages pages (about 3,000 code points
// each) and a .docx of it marked up with perPage tracked changes a page,
// as a delegation would send it back.
func benchMarkedUp(b *testing.B, pages, perPage int) (string, []byte) {
	text := benchTreaty(pages * 3000)
	runes := []rune(text)
	rng := rand.New(rand.NewPCG(3, 4))
	var runs []docx.Run
	at := 0
	date := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for p := range pages {
		for k := range perPage {
			// A change somewhere in this part of the page, at a word.
			lo := p*3000 + k*3000/perPage
			pos := lo + rng.IntN(3000/perPage-40)
			for pos < len(runes) && runes[pos] != ' ' {
				pos++
			}
			if pos+20 >= len(runes) || pos <= at {
				continue
			}
			runs = append(runs, docx.Run{Text: string(runes[at : pos+1])})
			end := pos + 1
			for end < len(runes) && runes[end] != ' ' && runes[end] != '\n' && runes[end] != '[' && runes[end] != ']' && runes[end] != '/' {
				end++
			}
			author := fmt.Sprintf("Reviewer %d", k%3)
			switch (p + k) % 3 {
			case 0:
				runs = append(runs, docx.Run{Text: "duly ", Mark: docx.Inserted, Author: author, Date: date})
				at = pos + 1
			case 1:
				runs = append(runs, docx.Run{Text: string(runes[pos+1 : end]), Mark: docx.Deleted, Author: author, Date: date},
					docx.Run{Text: "revised", Mark: docx.Inserted, Author: author, Date: date})
				at = end
			default:
				runs = append(runs, docx.Run{Text: string(runes[pos+1 : end]), Mark: docx.Deleted, Author: author, Date: date})
				at = end
			}
		}
	}
	runs = append(runs, docx.Run{Text: string(runes[at:])})
	data, err := docx.Write(docx.Document{Title: "marked up", Runs: runs})
	if err != nil {
		b.Fatal(err)
	}
	return text, data
}

// BenchmarkDocumentsImport: the import of a 300-page .docx with two
// tracked changes a page (issue 18: at most 2 s): reading it, and the whole
// request, each change becoming a proposal committed to a fresh draft.
func BenchmarkDocumentsImport(b *testing.B) {
	text, data := benchMarkedUp(b, 300, 2)
	b.Logf("%d code points, %d KB of .docx", len([]rune(text)), len(data)/1024)
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			f, err := docx.Read(data, docx.DefaultLimits)
			if err != nil {
				b.Fatal(err)
			}
			docx.Changes(f.Runs)
		}
	})
	b.Run("request", func(b *testing.B) {
		st := storage.NewMemory()
		s := New(Config{Open: true}, st, nil)
		b.Cleanup(func() { s.Shutdown(context.Background()) })
		h := s.Handler()
		n := 0
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			n++
			id := fmt.Sprintf("imp-%d", n)
			if err := st.CreateDraft(context.Background(), dr.Draft{ID: id, Title: id}, text); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			c0 := cpuTime()
			out := serveTimed(b, h, "POST", "/api/docs/"+id+"/import?rev=0", mediaDocx, data)
			cpu += cpuTime() - c0
			if n == 1 {
				var ans importedDocxJSON
				if err := json.Unmarshal(out, &ans); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(ans.Proposals)), "proposals")
				b.ReportMetric(float64(len(ans.NotPlaced)), "not-placed")
			}
		}
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/op")
	})
}
