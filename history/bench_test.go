package history

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
)

// benchAuthors rotates the trace's edits between three delegations, 1000
// edits each, so the authorship has several writers as a real draft would.
var benchAuthors = []dr.Author{ana, ben, chi}

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
	cpu := startCPU()
	for b.Loop() {
		replayAuthorship(b, tr)
	}
	cpu.report(b)
	b.ReportMetric(float64(len(tr.ops)), "ops")
}

// BenchmarkAuthorshipSpans lists the authorship of the trace's final text.
func BenchmarkAuthorshipSpans(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	a := replayAuthorship(b, tr)
	var n int
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		n = len(a.Spans())
	}
	cpu.report(b)
	b.ReportMetric(float64(n), "spans")
}

// BenchmarkAuthorshipAuthorSpans lists the final text's authorship merged
// by author.
func BenchmarkAuthorshipAuthorSpans(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	a := replayAuthorship(b, tr)
	var n int
	cpu := startCPU()
	for b.Loop() {
		n = len(a.AuthorSpans())
	}
	cpu.report(b)
	b.ReportMetric(float64(n), "spans")
}

// BenchmarkAuthorshipMarshal encodes the final state (as the server does
// when it writes a snapshot's Meta section).
func BenchmarkAuthorshipMarshal(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	a := replayAuthorship(b, tr)
	var size int
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		data, err := a.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	cpu.report(b)
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkAuthorshipClone copies the final state (as the server's draft
// owner does at a snapshot, leaving the encoding to another goroutine).
func BenchmarkAuthorshipClone(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	a := replayAuthorship(b, tr)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if a.Clone().Len() != a.Len() {
			b.Fatal("clone differs")
		}
	}
	cpu.report(b)
}

// BenchmarkAuthorshipUnmarshal decodes the final state (as the server does
// to answer authors?rev= from a snapshot).
func BenchmarkAuthorshipUnmarshal(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	data, err := replayAuthorship(b, tr).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkDiff50k diffs revisions of automerge-paper 50,000 edits apart
// (78,462 -> 93,860 and 91,428 -> 104,852 code points) with Diff, as the
// server calls it (DefaultDiffTimeout).
func BenchmarkDiff50k(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	for _, pair := range [][2]int{{150000, 200000}, {209778, 259778}} {
		texts := textsAt(tr, pair[0], pair[1])
		from, to := texts[pair[0]], texts[pair[1]]
		b.Run(fmt.Sprintf("%d-%d", pair[0], pair[1]), func(b *testing.B) {
			var n int
			cpu := startCPU()
			for b.Loop() {
				n = len(Diff(from, to))
			}
			cpu.report(b)
			b.ReportMetric(float64(n), "segments")
		})
	}
}

// cpuClock measures the CPU time of the whole process (GC included) over
// a benchmark loop. The team shares two cores, so ns/op (wall time) is
// inflated whenever others run tests; cpu-ms/op is what the code costs.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-c.start)/float64(b.N)/1e6, "cpu-ms/op")
	}
}

// traceOps turns the trace into a committed history: three delegations
// taking turns every 1000 edits, 150 ms between keystrokes with a pause of
// 4 s every 37 edits, and a bracket proposal every 5000 revisions.
func traceOps(tr *trace) []dr.Op {
	ops := make([]dr.Op, len(tr.ops))
	ts := int64(1795000000000)
	for i, op := range tr.ops {
		by := benchAuthors[(i/1000)%len(benchAuthors)]
		ts += 150
		if i%37 == 0 {
			ts += 4000
		}
		ops[i] = dr.Op{Rev: i + 1, Op: op, Client: "c-" + by.Delegation, Seq: uint64(i + 1),
			Principal: "open:" + by.Delegation + "/" + by.Name, By: by, TS: ts}
		if (i+1)%5000 == 0 {
			ops[i].Kind, ops[i].Client, ops[i].Group = dr.KindPropose, "_draftroom", "b1.0"
		}
	}
	return ops
}

// BenchmarkTimelineFirstPage pages the newest 50 entries of the trace's
// 259,778 ops from an in-memory loader.
func BenchmarkTimelineFirstPage(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	ops := traceOps(tr)
	loaded := 0
	load := sliceLoader(ops, &loaded)
	var n int
	cpu := startCPU()
	for b.Loop() {
		page, _, err := Page(context.Background(), load, len(ops), 0, 50, 0)
		if err != nil {
			b.Fatal(err)
		}
		n = len(page)
	}
	cpu.report(b)
	b.ReportMetric(float64(n), "entries")
	b.ReportMetric(float64(loaded)/float64(b.N), "ops-loaded/op")
}

// BenchmarkTimelineAll groups the whole trace, for comparison.
func BenchmarkTimelineAll(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	ops := traceOps(tr)
	var n int
	for b.Loop() {
		n = len(Timeline(ops, 0))
	}
	b.ReportMetric(float64(n), "entries")
}

// BenchmarkAttributeDeletes attributes the deletions of the diff between
// revisions 150,000 and 200,000 of automerge-paper to the 50,000 ops that
// made them.
func BenchmarkAttributeDeletes(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	texts := textsAt(tr, 150000, 200000)
	segs := Diff(texts[150000], texts[200000])
	ops := traceOps(tr)[150000:200000]
	lenA := len([]rune(texts[150000]))
	cpu := startCPU()
	for b.Loop() {
		if _, err := AttributeDeletes(segs, lenA, ops); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}
