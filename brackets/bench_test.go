package brackets

import (
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/ot"
)

// benchDraft returns a draft of about 180,000 code points with 2,000
// bracket groups in every form (optional, alternatives, adjacent with "or",
// nested), some of it Arabic and Chinese.
func benchDraft() string {
	forms := []string{
		"States Parties [shall/should/may] take [all] appropriate measures ",
		"[to ensure] or [to promote] the protection of 中国的海洋环境 ",
		"[States Parties [shall/may] adopt/Each Party adopts] legislation ",
		"تعتمد الدول [الأطراف/الأعضاء] التدابير and\\/or [effective] [relevant] ",
	}
	var b strings.Builder
	filler := "The Conference of the Parties shall keep under review the implementation. "
	// The four forms hold 8 groups.
	for i := 0; i < 2000*4/8; i++ {
		b.WriteString(forms[i%len(forms)])
		b.WriteString(filler)
		b.WriteString("Lorem ipsum dolor sit amet, consectetur. ")
	}
	return b.String()
}

func TestBenchDraftShape(t *testing.T) {
	text := benchDraft()
	res := Parse(text)
	n := utf8.RuneCountInString(text)
	if n < 170_000 || n > 230_000 || len(res.Groups) < 1900 || len(res.Groups) > 2100 || len(res.Diagnostics) != 0 {
		t.Fatalf("bench draft: %d code points, %d groups, %d diagnostics", n, len(res.Groups), len(res.Diagnostics))
	}
}

func BenchmarkParse(b *testing.B) {
	text := benchDraft()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		Parse(text)
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkList(b *testing.B) {
	text := benchDraft()
	tr := NewTracker(text)
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		if _, err := List(text, tr); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkTrackerApply measures typing in a 200k-code-point draft with
// 4,000 tracked '[': one op per iteration, in pairs that keep the draft's
// size: insert "a" then delete it, insert "[x]" then delete it, at
// positions spread over the draft.
func BenchmarkTrackerApply(b *testing.B) {
	text := benchDraft()
	text += strings.Repeat("[a] ", 4000-NewTracker(text).Count())
	tr := NewTracker(text)
	n := tr.Len()
	b.ReportAllocs()
	rev := 0
	c0 := cpuTime()
	for b.Loop() {
		k := rev
		rev++
		at := 1 + (k/2)*7919%(n-4)
		var op ot.Op
		switch k % 4 {
		case 0:
			op = ot.Op{{Skip: at}, {Insert: "a"}}
		case 1:
			op = ot.Op{{Skip: at}, {Delete: 1}}
		case 2:
			op = ot.Op{{Skip: at}, {Insert: "[x]"}}
		case 3:
			op = ot.Op{{Skip: at}, {Delete: 3}}
		}
		if err := tr.Apply(op, rev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
	// An odd b.N stops half way through a pair.
	if tr.Count() < 4000 || tr.Count() > 4001 || tr.Len() < n || tr.Len() > n+3 {
		b.Fatalf("workload drifted: %d brackets, %d code points", tr.Count(), tr.Len())
	}
}

// BenchmarkTrackerApplyBulk measures an imported text: one op of 100 edits
// spread over the draft (the bulk path).
func BenchmarkTrackerApplyBulk(b *testing.B) {
	text := benchDraft()
	tr := NewTracker(text)
	b.ReportAllocs()
	rev := 0
	for b.Loop() {
		rev++
		var op ot.Op
		step := tr.Len()/100 - 2
		for k := 0; k < 100; k++ {
			op = append(op, ot.Component{Skip: step}, ot.Component{Insert: "b"})
		}
		if err := tr.Apply(op, rev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTrackerMarshal(b *testing.B) {
	tr := NewTracker(benchDraft())
	b.ReportAllocs()
	for b.Loop() {
		data, err := tr.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(data)), "bytes")
	}
}

// cpuTime returns the process's user+system CPU time. The benchmarks report
// it per op beside the wall time, because on a shared machine the wall time
// mostly measures the wait for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIndexApply: Index.Apply on a draft of about 1.1 M code points
// with 12,000 groups: "typing" a letter, "bracket" a '[' typed and deleted
// (each op counted).
func BenchmarkIndexApply(b *testing.B) {
	text := strings.Repeat(benchDraft(), 6)
	doc := ot.NewText(text)
	x := NewIndex(text)
	n := doc.Len()
	apply := func(op ot.Op) {
		if _, err := doc.Apply(op); err != nil {
			b.Fatal(err)
		}
		if _, err := x.Apply(op, doc); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("typing", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			apply(ot.Op{ot.Skip((i * 7919) % n), ot.Insert("a")})
		}
	})
	b.Run("bracket", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			pos := (i * 7919) % n
			apply(ot.Op{ot.Skip(pos), ot.Insert("[")})
			apply(ot.Op{ot.Skip(pos), ot.Delete(1)})
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/bracket-op")
	})
}
