package history_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// TestQueriesAtEveryRev: TextAt and AuthorshipAt at every revision of a
// draft whose snapshots come every 3rd revision (the authorship section
// with every 6th only) agree with the text and authorship followed op by
// op; LoadOps reads the ranges in full.
func TestQueriesAtEveryRev(t *testing.T) {
	ctx := context.Background()
	st := storage.NewMemory()
	const start = "Article 1. The Parties shall cooperate."
	people := []dr.Author{{Delegation: "CAN", Name: "Ana"}, {Delegation: "JPN", Name: "Ken"}}
	if err := st.CreateDraft(ctx, dr.Draft{ID: "d", Title: "D", By: people[0]}, start); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 9))
	text := ot.NewText(start)
	live := history.New(text.Len())
	texts := []string{start}
	spans := [][]history.Span{live.Spans()}
	const head = 40
	for rev := 1; rev <= head; rev++ {
		n := text.Len()
		pos := rng.IntN(n + 1)
		op := ot.Op{ot.Skip(pos), ot.Insert(fmt.Sprint(rev)), ot.Skip(n - pos)}
		if pos < n && rng.IntN(3) == 0 {
			op = ot.Op{ot.Skip(pos), ot.Delete(1), ot.Skip(n - pos - 1)}
		}
		op = ot.Normalize(op)
		sop := dr.Op{Rev: rev, Op: op, By: people[rev%2], Client: "c", Seq: uint64(rev), Principal: "p"}
		if _, err := text.Apply(op); err != nil {
			t.Fatal(err)
		}
		if err := live.Apply(op, rev, sop.By); err != nil {
			t.Fatal(err)
		}
		c := dr.Commit{Ops: []dr.Op{sop}}
		if rev%3 == 0 {
			snap := dr.Snapshot{Rev: rev, Text: text.String()}
			if rev%6 == 0 {
				data, err := live.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				snap.Meta = map[string]json.RawMessage{history.MetaSection: data}
			}
			c.Snapshots = []dr.Snapshot{snap}
		}
		if err := st.Commit(ctx, "d", rev-1, c); err != nil {
			t.Fatalf("commit %d: %v", rev, err)
		}
		texts = append(texts, text.String())
		spans = append(spans, live.Spans())
	}
	for rev := 0; rev <= head; rev++ {
		got, err := history.TextAt(ctx, st, "d", rev)
		if err != nil || got != texts[rev] {
			t.Fatalf("TextAt %d = %q, %v; want %q", rev, got, err, texts[rev])
		}
		a, err := history.AuthorshipAt(ctx, st, "d", rev)
		if err != nil {
			t.Fatalf("AuthorshipAt %d: %v", rev, err)
		}
		if fmt.Sprint(a.Spans()) != fmt.Sprint(spans[rev]) {
			t.Fatalf("AuthorshipAt %d: spans %v, want %v", rev, a.Spans(), spans[rev])
		}
	}
	ops, err := history.LoadOps(ctx, st, "d", 5, head)
	if err != nil || len(ops) != head-4 || ops[0].Rev != 5 || ops[len(ops)-1].Rev != head {
		t.Fatalf("LoadOps 5..%d: %d ops, %v", head, len(ops), err)
	}
	if _, err := history.LoadOps(ctx, st, "d", 1, head+1); err == nil {
		t.Fatal("LoadOps past the head: no error")
	}
	if _, err := history.AuthorshipAt(ctx, st, "d", head+1); err == nil {
		t.Fatal("AuthorshipAt past the head: no error")
	}
	if _, err := history.TextAt(ctx, st, "nope", 0); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("TextAt of a missing draft: %v, want ErrNotFound", err)
	}
}

// TestDiffAt: the diff between two revisions of a stored draft, plain
// and attributed (an insertion to who typed it, a deletion to who deleted
// it).
func TestDiffAt(t *testing.T) {
	ctx := context.Background()
	st := storage.NewMemory()
	ana, ken := dr.Author{Delegation: "CAN", Name: "Ana"}, dr.Author{Delegation: "JPN", Name: "Ken"}
	if err := st.CreateDraft(ctx, dr.Draft{ID: "d", Title: "D", By: ana}, "shall act"); err != nil {
		t.Fatal(err)
	}
	ops := []dr.Op{
		{Rev: 1, Op: ot.Op{ot.Insert("States ")}, By: ken, Client: "c", Seq: 1, Principal: "k"},
		{Rev: 2, Op: ot.Op{ot.Skip(7), ot.DeleteText("shall"), ot.Insert("may")}, By: ana, Client: "c", Seq: 2, Principal: "a"},
	}
	for i, op := range ops {
		if err := st.Commit(ctx, "d", i, dr.Commit{Ops: []dr.Op{op}}); err != nil {
			t.Fatal(err)
		}
	}
	plain, err := history.DiffAt(ctx, st, "d", 0, 2, ana, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(plain); got != fmt.Sprint(history.Diff("shall act", "States may act")) {
		t.Errorf("plain diff %v, want history.Diff's", got)
	}
	spansAt := func() ([]history.Span, error) {
		a, err := history.AuthorshipAt(ctx, st, "d", 2)
		if err != nil {
			return nil, err
		}
		return a.Spans(), nil
	}
	segs, err := history.DiffAt(ctx, st, "d", 0, 2, ana, spansAt)
	if err != nil {
		t.Fatal(err)
	}
	who := map[string]string{}
	for _, sg := range segs {
		if sg.Op != history.OpEqual {
			who[sg.Text] = sg.Name
		}
	}
	if who["States "] != "Ken" || who["may"] != "Ana" || who["shall"] != "Ana" {
		t.Errorf("attribution %v (segments %+v), want States→Ken, may→Ana, shall deleted by Ana", who, segs)
	}
	boom := errors.New("boom")
	if _, err := history.DiffAt(ctx, st, "d", 0, 2, ana, func() ([]history.Span, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("spans error: %v, want boom", err)
	}
}
