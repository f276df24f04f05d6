package history

import (
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/storage"
)

// benchAuthors rotates the trace's edits between three delegations, 1000
// edits each, so the authorship has several writers as a real draft would.
var benchAuthors = []storage.Author{ana, ben, chi}

func replayAuthorship(tb testing.TB, tr *trace) *Authorship {
	a := New(utf8.RuneCountInString(tr.start))
	for i, op := range tr.ops {
		if err := a.Apply(op, i+1, benchAuthors[(i/1000)%len(benchAuthors)]); err != nil {
			tb.Fatalf("rev %d: %v", i+1, err)
		}
	}
	return a
}

// BenchmarkAuthorshipReplay applies all 259,778 edits of automerge-paper.
func BenchmarkAuthorshipReplay(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	b.ReportAllocs()
	for b.Loop() {
		replayAuthorship(b, tr)
	}
	b.ReportMetric(float64(len(tr.ops)), "ops")
}

// BenchmarkAuthorshipSpans lists the authorship of the trace's final text.
func BenchmarkAuthorshipSpans(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	a := replayAuthorship(b, tr)
	var n int
	b.ReportAllocs()
	for b.Loop() {
		n = len(a.Spans())
	}
	b.ReportMetric(float64(n), "spans")
}

// BenchmarkAuthorshipMarshal encodes and decodes the final state.
func BenchmarkAuthorshipMarshal(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	a := replayAuthorship(b, tr)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		data, err := a.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes")
}
