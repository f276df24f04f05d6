package ot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/internal/traces"
)

// sequentialTraces are the shared traces (internal/traces) whose patches
// apply in order (friendsforever-concurrent is concurrent and has another
// format).
var sequentialTraces = []string{
	"sveltecomponent.json.gz",
	"friendsforever_flat.json.gz",
	"seph-blog1.json.gz",
	"automerge-paper.json.gz",
}

type trace struct {
	start, end string
	ops        []Op
}

// loadTrace reads a sequential trace and turns each patch [pos, del, ins]
// into an op; it skips the test when the traces are not there.
func loadTrace(tb testing.TB, name string) trace {
	tb.Helper()
	raw := traces.Load(tb, name)
	tr := trace{start: raw.Start, end: raw.End, ops: make([]Op, 0, len(raw.Patches))}
	for _, p := range raw.Patches {
		op := make(Op, 0, 3)
		if p.Pos > 0 {
			op = append(op, Skip(p.Pos))
		}
		if p.Del > 0 {
			op = append(op, Delete(p.Del))
		}
		if p.Ins != "" {
			op = append(op, Insert(p.Ins))
		}
		tr.ops = append(tr.ops, op)
	}
	return tr
}

func replay(tb testing.TB, tr trace) *Text {
	text := NewText(tr.start)
	for i, op := range tr.ops {
		if _, err := text.Apply(op); err != nil {
			tb.Fatalf("edit %d %v: %v", i, op, err)
		}
	}
	return text
}

// TestTraces replays every sequential trace through Text and checks the
// final text. The two long ones are skipped with -short and under the race
// detector (about 25 s there); the plain run and BenchmarkTrace check them.
func TestTraces(t *testing.T) {
	for _, name := range sequentialTraces {
		t.Run(name, func(t *testing.T) {
			if long := name == "automerge-paper.json.gz" || name == "seph-blog1.json.gz"; long && (testing.Short() || raceEnabled) {
				t.Skip("long trace skipped with -short and under -race; go test ./ot/ and BenchmarkTrace replay it")
			}
			tr := loadTrace(t, name)
			text := replay(t, tr)
			if got := text.String(); got != tr.end {
				t.Fatalf("final text differs from endContent (%d vs %d code points)", text.Len(), len([]rune(tr.end)))
			}
			checkTree(t, text)
		})
	}
}

// BenchmarkTrace replays each sequential trace through Text; ns/edit is the
// mean cost of one Text.Apply (validation, edit and inverse).
func BenchmarkTrace(b *testing.B) {
	for _, name := range sequentialTraces {
		b.Run(name, func(b *testing.B) {
			tr := loadTrace(b, name)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				text := replay(b, tr)
				if text.Len() == 0 && tr.end != "" {
					b.Fatal("empty result")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tr.ops)), "ns/edit")
			text := replay(b, tr)
			if text.String() != tr.end {
				b.Fatal("final text differs from endContent")
			}
		})
	}
}

// BenchmarkTransform: two small concurrent ops, as the server transforms a
// submitted op against each op committed since its base revision.
func BenchmarkTransform(b *testing.B) {
	for _, bc := range []struct {
		name      string
		op, other Op
	}{
		{"insert-vs-edit", Op{Skip(120), Insert("shall ")}, Op{Skip(40), Delete(3), Insert("the Parties")}},
		{"same-position", Op{Skip(57), Insert("😭")}, Op{Skip(57), Insert("é")}},
		{"delete-vs-delete", Op{Skip(10), DeleteText("lorem ipsum")}, Op{Skip(15), Delete(20), Insert("x")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Transform(bc.op, bc.other, Left); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompose(b *testing.B) {
	a := Op{Skip(120), Insert("shall ")}
	c := Op{Skip(126), Insert("not "), Delete(2)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compose(a, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSON: decoding and encoding one small op, done for every op
// the server receives and sends.
func BenchmarkJSON(b *testing.B) {
	data := []byte(`[1203,"shall not ",{"d":"may"},12,{"d":4}]`)
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var op Op
			if err := op.UnmarshalJSON(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	op := mustOp(b, string(data))
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := op.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// draft200k returns a multilingual draft of 200,000 code points.
func draft200k() string {
	var b strings.Builder
	for i := 0; b.Len() < 400_000; i++ {
		fmt.Fprintf(&b, "Article %d. The Parties shall — «en français», на русском, 中文, 😭 👩‍💻 🇫🇷.\n", i)
	}
	return string([]rune(b.String())[:200_000])
}

func BenchmarkTextApply200k(b *testing.B) {
	doc := draft200k()
	text := NewText(doc)
	ops := []Op{
		{Skip(100_000), Insert("shall ")},
		{Skip(100_000), DeleteText("shall ")},
		{Skip(54_321), Delete(3)},
		{Skip(54_321), Insert("abc")},
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := text.Apply(ops[i%len(ops)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkApplyString200k is the same edit with Apply on a Go string,
// which copies the whole draft: what Text avoids.
func BenchmarkApplyString200k(b *testing.B) {
	doc := draft200k()
	op := Op{Skip(100_000), Insert("shall ")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Apply(doc, op); err != nil {
			b.Fatal(err)
		}
	}
}
