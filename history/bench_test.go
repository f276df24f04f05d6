package history

import (
	"fmt"
	"syscall"
	"testing"
	"time"
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

// BenchmarkDiff50k diffs revisions of automerge-paper 50,000 edits apart
// (the texts have ~78,000 and ~94,000 code points).
func BenchmarkDiff50k(b *testing.B) {
	tr := loadTrace(b, "automerge-paper.json.gz")
	for _, pair := range [][2]int{{150000, 200000}, {209778, 259778}} {
		texts := textsAt(tr, pair[0], pair[1])
		from, to := texts[pair[0]], texts[pair[1]]
		b.Run(fmt.Sprintf("%d-%d", pair[0], pair[1]), func(b *testing.B) {
			var n int
			cpu := startCPU()
			for b.Loop() {
				n = len(DiffWithin(from, to, 0))
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
