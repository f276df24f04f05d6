package server

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// textRecorder records the text each op was handed with.
type textRecorder struct{ seen []string }

func (r *textRecorder) ApplyOp(op dr.Op, text *ot.Text) { r.seen = append(r.seen, text.String()) }
func (r *textRecorder) Meta() (string, json.RawMessage) { return "rec", nil }

// TestObserveBatchText: a committed batch of ops is fed to the observers
// each with the owner's text as that op left it (not as the whole batch
// left it), and the owner's text ends after the batch; for random batches.
func TestObserveBatchText(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 15))
	s := New(Config{Open: true}, storage.NewMemory(), nil)
	for round := range 200 {
		start := fmt.Sprintf("Article %d. [shall][may] apply.", round)
		d := &draft{s: s, id: "d", text: ot.NewText(start)}
		rec := &textRecorder{}
		d.observers = []namedObserver{{"rec", rec}}
		var (
			ops  []dr.Op
			undo []ot.Op
			want []string
		)
		for i := range 1 + rng.IntN(5) {
			n := d.text.Len()
			pos := rng.IntN(n + 1)
			op := ot.Op{ot.Skip(pos), ot.Insert(string(rune('a' + i)))}
			if pos < n && rng.IntN(2) == 0 {
				op = ot.Op{ot.Skip(pos), ot.Delete(1)}
			}
			op = ot.Normalize(append(op, ot.Skip(n-op.BaseLen())))
			inv, err := d.text.Apply(op)
			if err != nil {
				t.Fatalf("round %d op %d %v: %v", round, i, op, err)
			}
			ops = append(ops, dr.Op{Op: op, Rev: i + 1})
			undo = append(undo, inv)
			want = append(want, d.text.String())
		}
		if err := d.observe(ops, undo); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if fmt.Sprint(rec.seen) != fmt.Sprint(want) {
			t.Fatalf("round %d: observer saw %q, want %q", round, rec.seen, want)
		}
		if got := d.text.String(); got != want[len(want)-1] {
			t.Fatalf("round %d: owner's text %q after the batch, want %q", round, got, want[len(want)-1])
		}
	}
	if err := (&draft{s: s, text: ot.NewText("ab"), observers: []namedObserver{{"rec", &textRecorder{}}}}).observe(
		[]dr.Op{{Rev: 1, Op: ot.Op{ot.Skip(2)}}, {Rev: 2, Op: ot.Op{ot.Skip(2)}}}, nil); err == nil {
		t.Fatal("a batch without its inverses was accepted")
	}
}
